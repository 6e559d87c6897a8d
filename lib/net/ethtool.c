#include "net/ethtool.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/netns.h"

#include "util/banned.h"

#define JOURNAL_KIND "feature"

/* One device, one socket: the ioctl acts in the namespace the socket was
 * made in, which is the calling thread's at the time of eth_open(). */
struct eth {
	int fd;
	char dev[IFNAMSIZ];
};

static int eth_open(struct eth *e, const char *dev)
{
	size_t len;

	e->fd = -1;
	if (!dev)
		return -EINVAL;
	len = strlen(dev);
	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	memcpy(e->dev, dev, len + 1);
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return e->fd < 0 ? -errno : 0;
}

static void eth_close(struct eth *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

/* The ioctl's value (>= 0; ETHTOOL_SFEATURES returns ETHTOOL_F_* flags) or
 * -errno. */
static int eth_ioctl(struct eth *e, void *cmd)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, e->dev, sizeof(e->dev));
	ifr.ifr_data = cmd;
	ret = ioctl(e->fd, SIOCETHTOOL, &ifr);
	return ret < 0 ? -errno : ret;
}

/* Where a feature lives in the ETHTOOL_GFEATURES/SFEATURES blocks. */
struct feature_pos {
	uint32_t nblocks; /* blocks of 32 features the device has */
	uint32_t block;
	uint32_t bit;     /* mask within the block */
};

/* Find feature among the device's ETH_SS_FEATURES names. -ENOENT when no
 * feature has that name. */
static int feature_find(struct eth *e, const char *feature, struct feature_pos *pos)
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *names = NULL;
	uint32_t count;
	size_t len;
	int err;

	if (!feature)
		return -EINVAL;
	len = strlen(feature);
	if (len == 0 || len >= ETH_GSTRING_LEN)
		return -ENOENT;
	info = calloc(1, sizeof(*info) + sizeof(info->data[0]));
	if (!info)
		return -ENOMEM;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	err = eth_ioctl(e, info);
	if (err < 0)
		goto out;
	if (!(info->sset_mask & (1ULL << ETH_SS_FEATURES))) {
		err = -EOPNOTSUPP;
		goto out;
	}
	count = info->data[0];
	names = calloc(1, sizeof(*names) + (size_t)count * ETH_GSTRING_LEN);
	if (!names) {
		err = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = count;
	err = eth_ioctl(e, names);
	if (err < 0)
		goto out;
	if (names->len < count) /* the set shrank between the calls: use what came */
		count = names->len;
	err = -ENOENT;
	for (uint32_t i = 0; i < count; i++) {
		const char *s = (const char *)names->data + (size_t)i * ETH_GSTRING_LEN;

		if (!strncmp(s, feature, ETH_GSTRING_LEN)) {
			pos->nblocks = (count + 31) / 32;
			pos->block = i / 32;
			pos->bit = 1U << (i % 32);
			err = 0;
			break;
		}
	}
out:
	free(names);
	free(info);
	return err;
}

/* Read the feature's block: available and active masks. */
static int feature_state(struct eth *e, const struct feature_pos *pos,
			 struct ethtool_get_features_block *out)
{
	struct ethtool_gfeatures *g;
	int err;

	g = calloc(1, sizeof(*g) + pos->nblocks * sizeof(g->features[0]));
	if (!g)
		return -ENOMEM;
	g->cmd = ETHTOOL_GFEATURES;
	g->size = pos->nblocks;
	err = eth_ioctl(e, g);
	if (err >= 0) {
		*out = g->features[pos->block];
		err = 0;
	}
	free(g);
	return err;
}

/* Ask for the feature's bit to be `requested` (0 or pos->bit). */
static int feature_request(struct eth *e, const struct feature_pos *pos, uint32_t requested)
{
	struct ethtool_sfeatures *s;
	int err;

	s = calloc(1, sizeof(*s) + pos->nblocks * sizeof(s->features[0]));
	if (!s)
		return -ENOMEM;
	s->cmd = ETHTOOL_SFEATURES;
	s->size = pos->nblocks;
	s->features[pos->block].valid = pos->bit;
	s->features[pos->block].requested = requested;
	err = eth_ioctl(e, s);
	free(s);
	if (err < 0)
		return err;
	return err & ETHTOOL_F_UNSUPPORTED ? -EOPNOTSUPP : 0;
}

/* Open dev and read feature's place and state: what get and set start with.
 * The caller closes e whatever this returns. */
static int feature_open(struct eth *e, const char *dev, const char *feature,
			struct feature_pos *pos, struct ethtool_get_features_block *st)
{
	int err = eth_open(e, dev);

	if (!err)
		err = feature_find(e, feature, pos);
	if (!err)
		err = feature_state(e, pos, st);
	return err;
}

int rtv_ethtool_feature_get(const char *dev, const char *feature)
{
	struct ethtool_get_features_block st;
	struct feature_pos pos;
	struct eth e;
	int err;

	err = feature_open(&e, dev, feature, &pos, &st);
	if (!err)
		err = (st.active & pos.bit) != 0;
	eth_close(&e);
	return err;
}

int rtv_ethtool_feature_set(const char *dev, const char *feature, bool on)
{
	struct ethtool_get_features_block st, after;
	struct feature_pos pos;
	uint32_t want;
	struct eth e;
	int err;

	err = feature_open(&e, dev, feature, &pos, &st);
	if (err < 0)
		goto out;
	want = on ? pos.bit : 0;
	if ((st.active & pos.bit) == want)
		goto out; /* already so, fixed or not */
	if (!(st.available & pos.bit)) {
		err = -EOPNOTSUPP; /* fixed on this device */
		goto out;
	}
	err = feature_request(&e, &pos, want);
	if (err < 0)
		goto out;
	err = feature_state(&e, &pos, &after);
	if (err < 0)
		goto out;
	if ((after.active & pos.bit) != want) {
		/* The kernel kept the wish but did not act on it (a feature it
		 * depends on is off): withdraw it, so that it does not take
		 * effect later behind the caller's back. */
		feature_request(&e, &pos, st.requested & pos.bit);
		err = -EOPNOTSUPP;
	}
out:
	eth_close(&e);
	return err;
}

int rtv_ethtool_driver(const char *dev, char *buf, size_t len)
{
	struct ethtool_drvinfo info;
	struct eth e;
	size_t n;
	int err;

	if (!buf || len == 0)
		return -EINVAL;
	err = eth_open(&e, dev);
	if (err < 0)
		goto out;
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GDRVINFO;
	err = eth_ioctl(&e, &info);
	if (err < 0)
		goto out;
	n = strnlen(info.driver, sizeof(info.driver));
	if (n >= len) {
		err = -ENOSPC;
		goto out;
	}
	memcpy(buf, info.driver, n);
	buf[n] = '\0';
	err = 0;
out:
	eth_close(&e);
	return err;
}

/* ---- the journaled setter and its undo ---- */

struct feature_job {
	const char *dev;
	const char *feature;
	bool on;
};

static int job_get(void *arg)
{
	struct feature_job *j = arg;

	return rtv_ethtool_feature_get(j->dev, j->feature);
}

static int job_set(void *arg)
{
	struct feature_job *j = arg;

	return rtv_ethtool_feature_set(j->dev, j->feature, j->on);
}

/* fn(job) in netns, or where the caller is when netns is NULL. */
static int in_netns(const char *netns, int (*fn)(void *), struct feature_job *job)
{
	return netns ? rtv_netns_run(netns, fn, job) : fn(job);
}

/* Entry arguments: netns ("-" for the namespace of whoever undoes it),
 * device, feature, old value ("0" or "1"). */
static int undo_feature(int argc, char **argv)
{
	struct feature_job job;
	const char *netns;
	int err;

	if (argc != 4 || (strcmp(argv[3], "0") && strcmp(argv[3], "1")))
		return -EINVAL;
	netns = strcmp(argv[0], "-") ? argv[0] : NULL;
	if (netns && !rtv_netns_exists(netns))
		return RTV_JOURNAL_GONE; /* the namespace went, and the device with it */
	job.dev = argv[1];
	job.feature = argv[2];
	job.on = argv[3][0] == '1';
	err = in_netns(netns, job_set, &job);
	return err == -ENODEV ? RTV_JOURNAL_GONE : err;
}

/* The features rtvnet turns on (methods/rxpath.c): their values on every
 * device of every namespace. */
static const char *const watched[] = { "rx-gro", "rx-udp-gro-forwarding", NULL };

static int put_features(const char *ns, unsigned ifindex, const char *dev, void *arg)
{
	FILE *out = arg;

	(void)ifindex;
	for (const char *const *f = watched; *f; f++) {
		int v = rtv_ethtool_feature_get(dev, *f);

		if (v >= 0)
			fprintf(out, "%s %s %s %d\n", ns, dev, *f, v);
	}
	return 0;
}

static int feature_snapshot(FILE *out)
{
	return rtv_netns_each_dev(put_features, out);
}

static const struct rtv_journal_kind feature_kind = {
	.name = JOURNAL_KIND, .undo = undo_feature, .snapshot = feature_snapshot,
};
RTV_JOURNAL_KIND(feature_kind)

int rtv_ethtool_feature_set_journaled(const char *netns, const char *dev, const char *feature,
				      bool on)
{
	struct feature_job job = { .dev = dev, .feature = feature, .on = on };
	size_t mark;
	int old, err;

	if (netns && (!*netns || strchr(netns, '/') || !strcmp(netns, "-")))
		return -EINVAL;
	old = in_netns(netns, job_get, &job);
	if (old < 0)
		return old;
	if (old == on)
		return 0; /* nothing to change, nothing to undo */
	mark = rtv_journal_mark();
	err = rtv_journal_add(JOURNAL_KIND, 4,
			      (const char *const[]){ netns ? netns : "-", dev, feature,
						     old ? "1" : "0" });
	if (err < 0)
		return err;
	err = in_netns(netns, job_set, &job);
	if (err < 0)
		/* The setter leaves the old value in place when it fails; undoing
		 * the entry writes that value again, harmlessly, and drops it. */
		rtv_journal_undo_to(mark);
	return err;
}
