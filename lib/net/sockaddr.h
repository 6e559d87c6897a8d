/* Socket addresses from what users type: one parser for every address a
 * probe binds or connects to, IPv4 and IPv6 alike. */
#ifndef RTV_NET_SOCKADDR_H
#define RTV_NET_SOCKADDR_H

#include <stdint.h>
#include <sys/socket.h>

/* A numeric IPv4 address in dotted-quad form ("198.18.0.2") or a numeric
 * IPv6 address ("fd00::2", "::ffff:198.18.0.2"), the latter with an optional
 * "%SCOPE": an interface of the calling thread's network namespace or an
 * interface index ("fe80::1%veth0", "fe80::1%3"), and port (host order) into
 * *ss and *len. Strict: inet_pton()'s forms only, so no host names and none
 * of inet_aton()'s shorthands ("127.1", "0x7f.1").
 * Returns 0, or -EINVAL when s is not such an address, -ENODEV when its
 * scope names no interface here, -EDESTADDRREQ for a link-local IPv6
 * address (fe80::/10) without a scope, which no socket can use. */
int rtv_sockaddr_parse(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* A UDP socket connected to *ss (the kernel then filters other senders, and
 * send and recv need no address). Returns the fd or -errno. */
int rtv_sockaddr_udp_connect(const struct sockaddr_storage *ss, socklen_t len);

/* The control message a datagram came with (IP_PKTINFO, IPV6_PKTINFO on a
 * socket bound to any address) turned, in place, into the one that sends
 * its reply from the address it was sent to: IPv6 keeps the interface (a
 * link-local address needs it); IPv4 gives the local address in
 * ipi_spec_dst and leaves the interface to routing. Returns the reply's
 * control length, 0 for none (a socket bound to one address). */
struct msghdr;
size_t rtv_sockaddr_reply_pktinfo(struct msghdr *mh);

#endif
