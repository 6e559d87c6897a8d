/* Drop counters from procfs text: net/dev, net/snmp, softnet_stat. See
 * dropstat.h for the formats. */
#include "net/dropstat.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/banned.h"

#define DEV_COUNTERS   16
#define DEV_RX_DROP    3  /* 0-based among the 16 */
#define DEV_TX_DROP    11
#define SNMP_MAX_NAMES 32
#define FILE_MAX       (16 << 20) /* a bigger "proc file" is not one */

/* The whole file at path, NUL-terminated, in *text (the caller frees it).
 * 0 or -errno; -EINVAL for a file too big or holding a NUL. */
static int slurp(const char *path, char **text)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *b;
	int fd, err = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= FILE_MAX) {
				err = -EINVAL;
				goto out;
			}
			b = realloc(buf, cap * 2);
			if (!b) {
				err = -ENOMEM;
				goto out;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len)
		err = -EINVAL;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		free(buf);
	else
		*text = buf;
	return err;
}

/* The next line of *s (without its newline, which is replaced by NUL), or
 * NULL at the end. */
static char *next_line(char **s)
{
	char *line = *s, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = line + strlen(line);
	}
	return line;
}

/* An unsigned number in base at *p (after blanks), moving *p past it;
 * -EINVAL when there is none or it does not end at a blank or the end. */
static int take_u64(char **p, int base, uint64_t *v)
{
	char *s = *p, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || end == s || (*end && *end != ' ' && *end != '\t'))
		return -EINVAL;
	*p = end;
	return 0;
}

static int only_blanks(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Walk net/dev: each device handed to fn (which returns nonzero to stop
 * early without error). */
typedef int (*dev_fn)(void *arg, const char *name, uint64_t rx_drop, uint64_t tx_drop);

static int dev_walk(const char *root, dev_fn fn, void *arg)
{
	char path[4096], *text = NULL, *s, *line;
	int err;

	if (!root)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/net/dev", root) >= sizeof(path))
		return -ENAMETOOLONG;
	err = slurp(path, &text);
	if (err)
		return err;
	s = text;
	/* the two header lines */
	line = next_line(&s);
	if (!line || strncmp(line, "Inter-|", 7)) {
		err = -EINVAL;
		goto out;
	}
	line = next_line(&s);
	if (!line || !strstr(line, "|bytes") || !strstr(line, "drop")) {
		err = -EINVAL;
		goto out;
	}
	while ((line = next_line(&s))) {
		uint64_t v[DEV_COUNTERS];
		char name[16], *colon, *p = line;
		size_t nlen;

		if (only_blanks(line))
			continue;
		p += strspn(p, " ");
		colon = strchr(p, ':');
		if (!colon || colon == p) {
			err = -EINVAL;
			goto out;
		}
		nlen = (size_t)(colon - p);
		if (nlen >= sizeof(name)) {
			err = -EINVAL;
			goto out;
		}
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		p = colon + 1;
		for (int i = 0; i < DEV_COUNTERS; i++) {
			err = take_u64(&p, 10, &v[i]);
			if (err)
				goto out;
		}
		if (!only_blanks(p)) {
			err = -EINVAL;
			goto out;
		}
		if (fn(arg, name, v[DEV_RX_DROP], v[DEV_TX_DROP]))
			break;
	}
out:
	free(text);
	return err;
}

struct dev_sum {
	uint64_t rx, tx;
};

static int sum_dev(void *arg, const char *name, uint64_t rx, uint64_t tx)
{
	struct dev_sum *d = arg;

	if (strcmp(name, "lo")) {
		d->rx += rx;
		d->tx += tx;
	}
	return 0;
}

struct dev_list {
	struct rtv_dropdev *out;
	int max, n;
};

static int list_dev(void *arg, const char *name, uint64_t rx, uint64_t tx)
{
	struct dev_list *l = arg;
	struct rtv_dropdev *d;

	if (l->n >= l->max)
		return 0; /* read on: the rest of the file is still checked */
	d = &l->out[l->n++];
	memset(d->name, 0, sizeof(d->name));
	memcpy(d->name, name, strlen(name)); /* < 16: dev_walk checked */
	d->rx_dropped = rx;
	d->tx_dropped = tx;
	return 0;
}

/* Split a "Udp:" row after its prefix into up to max words (in place). */
static int words(char *s, char **w, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return n;
		if (n == max)
			return -EINVAL;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
}

struct udp_want {
	const char *name;
	uint64_t *v;
};

static int snmp_udp(const char *root, struct rtv_dropstat *d)
{
	char path[4096], *text = NULL, *s, *line, *names = NULL;
	char *nw[SNMP_MAX_NAMES], *vw[SNMP_MAX_NAMES];
	const struct udp_want want[] = {
		{ "RcvbufErrors", &d->udp_rcvbuf_errors },
		{ "InErrors", &d->udp_in_errors },
		{ "SndbufErrors", &d->udp_sndbuf_errors },
		{ "NoPorts", &d->udp_no_ports },
	};
	int err, nn, nv;

	if ((size_t)snprintf(path, sizeof(path), "%s/net/snmp", root) >= sizeof(path))
		return -ENAMETOOLONG;
	err = slurp(path, &text);
	if (err)
		return err;
	s = text;
	err = -EINVAL; /* until both Udp rows are read */
	while ((line = next_line(&s))) {
		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!names) {
			names = line + 5;
			continue;
		}
		nn = words(names, nw, SNMP_MAX_NAMES);
		nv = words(line + 5, vw, SNMP_MAX_NAMES);
		if (nn <= 0 || nv != nn)
			goto out;
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			int j;

			for (j = 0; j < nn && strcmp(nw[j], want[i].name); j++)
				;
			if (j == nn || take_u64(&vw[j], 10, want[i].v))
				goto out;
		}
		err = 0;
		break;
	}
out:
	free(text);
	return err;
}

int rtv_dropstat_read(const char *root, struct rtv_dropstat *out)
{
	struct rtv_dropstat d = { 0 };
	struct dev_sum sum = { 0, 0 };
	int err;

	if (!root || !out)
		return -EINVAL;
	err = dev_walk(root, sum_dev, &sum);
	if (err)
		return err;
	err = snmp_udp(root, &d);
	if (err)
		return err;
	d.rx_dropped = sum.rx;
	d.tx_dropped = sum.tx;
	*out = d;
	return 0;
}

int rtv_dropstat_devs(const char *root, struct rtv_dropdev *out, int max)
{
	struct dev_list l = { out, max, 0 };
	int err;

	if (!root || max < 0 || (max && !out))
		return -EINVAL;
	err = dev_walk(root, list_dev, &l);
	return err ? err : l.n;
}

int rtv_softnet_read(const char *path, uint64_t *dropped, uint64_t *squeezed)
{
	char *text = NULL, *s, *line;
	uint64_t drop = 0, squeeze = 0, v[3];
	int err, cpus = 0;

	if (!path || !dropped || !squeezed)
		return -EINVAL;
	err = slurp(path, &text);
	if (err)
		return err;
	s = text;
	while ((line = next_line(&s))) {
		char *p = line;

		if (only_blanks(line))
			continue;
		for (int i = 0; i < 3; i++) {
			err = take_u64(&p, 16, &v[i]);
			if (err)
				goto out;
		}
		drop += v[1];
		squeeze += v[2];
		cpus++;
	}
	if (!cpus) {
		err = -EINVAL;
		goto out;
	}
	*dropped = drop;
	*squeezed = squeeze;
out:
	free(text);
	return err;
}
