/* Socket addresses from what users type; see sockaddr.h. */
#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "util/parse.h"
#include "util/banned.h"

/* "veth0" or "3": an interface of this network namespace, by name or index. */
static int scope_id(const char *s, uint32_t *id)
{
	char name[IF_NAMESIZE];
	long long idx;

	if (!*s)
		return -EINVAL;
	*id = if_nametoindex(s);
	if (*id)
		return 0;
	if (rtv_parse_ll(s, 1, UINT32_MAX, &idx) == 0 && if_indextoname((unsigned)idx, name)) {
		*id = (uint32_t)idx;
		return 0;
	}
	return -ENODEV;
}

int rtv_sockaddr_parse(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *pct;
	size_t n;
	int err;

	if (!s || !ss || !len)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	pct = strchr(s, '%');
	n = pct ? (size_t)(pct - s) : strlen(s);
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
		return -EINVAL;
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	*len = sizeof(*a6);
	if (pct) {
		err = scope_id(pct + 1, &a6->sin6_scope_id);
		if (err < 0)
			return err;
	} else if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) {
		return -EDESTADDRREQ;
	}
	return 0;
}

int rtv_sockaddr_udp_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int err, fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The control message a request came with, turned into the one that sends
 * its reply from the address the request was sent to: IPv6 keeps the
 * interface (a link-local address needs it); IPv4 gives the local address
 * in ipi_spec_dst and leaves the interface to routing. Returns the length
 * of the reply's control data, 0 for none (a socket bound to one address). */
size_t rtv_sockaddr_reply_pktinfo(struct msghdr *mh)
{
	struct cmsghdr *cm;
	size_t len;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
			break;
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi_ifindex = 0;
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			break;
		}
	}
	if (!cm)
		return 0;
	len = CMSG_SPACE(cm->cmsg_len - CMSG_LEN(0));
	if ((void *)cm != mh->msg_control) /* the reply's control data holds it alone */
		memmove(mh->msg_control, cm, cm->cmsg_len);
	return len;
}
