/* The per-stage latency tracer's aggregator, loader and probe; see
 * stages.h. */
#include "probe/stages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "probe/probe.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/time.h"

#include "probe/stages.skel.h"

#include "util/banned.h"

#define OPEN_MAX   256  /* datagrams followed at once */
#define PAIR_SLOTS 1024 /* finished requests waiting for their reply, by seq */
#define OCC_RING   2048 /* occupants kept per CPU */
#define NCPUS_MAX  1024

struct point {
	int64_t ts;
	uint8_t kind;
	uint8_t softirq;
	uint16_t cpu;
	int32_t pid;
	char dev[16];
};

struct chain {
	bool used, overflow;
	uint32_t dir; /* 0 req, 1 rep */
	uint64_t skb, tag, seq;
	int npts;
	struct point pts[RTV_STAGES_MAX_POINTS];
};

struct occ {
	int64_t start, end;
	int32_t pid;
	int32_t vec; /* -1: a task */
	char comm[16];
};

struct slow {
	uint64_t seq;
	int64_t rtt_ns;
	int nb;
	struct rtv_stages_blocker b[RTV_STAGES_BLOCKERS];
};

struct stage {
	char name[RTV_STAGES_NAME_LEN];
	int group; /* the order of the tables: req, srv, rep, rtt */
	int pos;   /* the index of its first point along the path, when first seen */
	struct rtv_hist h;
};

struct rtv_stages_agg {
	int ncpus, topk;
	int64_t since_ns;
	FILE *points;
	struct rtv_stages_counts n;
	struct stage *stages; /* RTV_STAGES_MAX_STAGES */
	int nstages;
	struct chain open[OPEN_MAX];
	struct chain *pairs;  /* PAIR_SLOTS finished requests */
	struct occ *occ;      /* [ncpus][OCC_RING] */
	uint32_t *occ_next;   /* [ncpus] */
	struct slow slow[RTV_STAGES_TOPK_MAX];
	int nslow;
	struct rtv_stages_poll polls[RTV_STAGES_POLL_ROWS];
	int npolls;
};

/* The causal order of the kinds along one path. */
static int rank(int kind)
{
	switch (kind) {
	case RTV_STG_SEND: return 0;
	case RTV_STG_XMIT:
	case RTV_STG_RX: return 1;
	case RTV_STG_WAKE: return 3;
	case RTV_STG_RUN: return 4;
	case RTV_STG_RET: return 6;
	}
	return 7;
}

static const char *kind_name(int kind)
{
	static const char *const n[RTV_STG_KINDS] = {
		[RTV_STG_SEND] = "send", [RTV_STG_XMIT] = "xmit", [RTV_STG_RX] = "rx",
		[RTV_STG_WAKE] = "wake", [RTV_STG_RUN] = "run",
		[RTV_STG_RET] = "ret", [RTV_STG_OCC] = "occ",
		[RTV_STG_SIRQ] = "softirq",
	};

	return kind > 0 && kind < RTV_STG_KINDS ? n[kind] : "?";
}

static const char *const softirq_names[] = { "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK",
					     "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU" };

static void point_name(const struct point *p, char *buf, size_t len)
{
	if (p->kind == RTV_STG_XMIT || p->kind == RTV_STG_RX)
		snprintf(buf, len, "%s:%.15s", kind_name(p->kind), p->dev);
	else
		snprintf(buf, len, "%s", kind_name(p->kind));
}

static void stage_name(uint32_t dir, const struct point *a, const struct point *b, char *buf,
		       size_t len)
{
	char na[24], nb[24];

	point_name(a, na, sizeof(na));
	point_name(b, nb, sizeof(nb));
	snprintf(buf, len, "%s %s>%s", dir ? "rep" : "req", na, nb);
}

int rtv_stages_agg_new(struct rtv_stages_agg **ap, int ncpus, int topk)
{
	struct rtv_stages_agg *a;

	if (!ap || ncpus < 1 || ncpus > NCPUS_MAX || topk < 1 || topk > RTV_STAGES_TOPK_MAX)
		return -EINVAL;
	*ap = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ncpus = ncpus;
	a->topk = topk;
	a->stages = calloc(RTV_STAGES_MAX_STAGES, sizeof(*a->stages));
	a->pairs = calloc(PAIR_SLOTS, sizeof(*a->pairs));
	a->occ = calloc((size_t)ncpus * OCC_RING, sizeof(*a->occ));
	a->occ_next = calloc((size_t)ncpus, sizeof(*a->occ_next));
	if (!a->stages || !a->pairs || !a->occ || !a->occ_next) {
		rtv_stages_agg_free(a);
		return -ENOMEM;
	}
	rtv_stages_agg_reset(a, INT64_MIN);
	*ap = a;
	return 0;
}

void rtv_stages_agg_free(struct rtv_stages_agg *a)
{
	if (!a)
		return;
	free(a->stages);
	free(a->pairs);
	free(a->occ);
	free(a->occ_next);
	free(a);
}

void rtv_stages_agg_reset(struct rtv_stages_agg *a, int64_t since_ns)
{
	a->since_ns = since_ns;
	memset(&a->n, 0, sizeof(a->n));
	a->nstages = 0;
	a->nslow = 0;
	a->npolls = 0;
	memset(a->open, 0, sizeof(a->open));
	memset(a->pairs, 0, PAIR_SLOTS * sizeof(*a->pairs));
}

void rtv_stages_agg_set_points_file(struct rtv_stages_agg *a, FILE *out)
{
	a->points = out;
}

/* The stage's histogram, taking a new name while there is room; the
 * stages are kept in path order: by group, then position, then as seen. */
static struct rtv_hist *stage_hist(struct rtv_stages_agg *a, const char *name, int pos)
{
	int group, i;

	for (i = 0; i < a->nstages; i++)
		if (!strcmp(a->stages[i].name, name))
			return &a->stages[i].h;
	if (a->nstages >= RTV_STAGES_MAX_STAGES)
		return NULL;
	group = !strncmp(name, "req ", 4) ? 0 : !strcmp(name, "srv") ? 1 :
		!strncmp(name, "rep ", 4) ? 2 : 3;
	for (i = a->nstages; i > 0; i--) {
		const struct stage *p = &a->stages[i - 1];

		if (p->group < group || (p->group == group && p->pos <= pos))
			break;
	}
	memmove(&a->stages[i + 1], &a->stages[i], (size_t)(a->nstages - i) * sizeof(*a->stages));
	a->nstages++;
	struct stage *s = &a->stages[i];

	snprintf(s->name, sizeof(s->name), "%s", name);
	s->group = group;
	s->pos = pos;
	rtv_hist_init(&s->h);
	return &s->h;
}

static void stage_record(struct rtv_stages_agg *a, const char *name, int pos, int64_t ns)
{
	struct rtv_hist *h = stage_hist(a, name, pos);

	if (h)
		rtv_hist_record(h, ns);
	else
		a->n.unnamed++;
}

static bool monotone(const struct chain *c)
{
	for (int i = 1; i < c->npts; i++)
		if (c->pts[i].ts < c->pts[i - 1].ts ||
		    rank(c->pts[i].kind) < rank(c->pts[i - 1].kind))
			return false;
	return true;
}

static void points_write(const struct rtv_stages_agg *a, const struct chain *c)
{
	char n[24];

	fprintf(a->points, "%s %" PRIu64, c->dir ? "rep" : "req", c->seq);
	for (int i = 0; i < c->npts; i++) {
		point_name(&c->pts[i], n, sizeof(n));
		fprintf(a->points, " %s@%" PRId64, n, c->pts[i].ts);
	}
	fputc('\n', a->points);
}

/* ---- blockers ---- */

static void occ_add(struct rtv_stages_agg *a, const struct rtv_stg_event *ev)
{
	struct occ *o;

	if ((int)ev->cpu >= a->ncpus)
		return;
	o = &a->occ[(size_t)ev->cpu * OCC_RING + a->occ_next[ev->cpu]++ % OCC_RING];
	o->start = (int64_t)ev->t2;
	o->end = (int64_t)ev->ts;
	o->pid = (int32_t)ev->pid; /* a softirq: the task it interrupted */
	o->vec = ev->kind == RTV_STG_SIRQ ? (int32_t)(ev->aux >> 8) : -1;
	memcpy(o->comm, ev->comm, sizeof(o->comm));
	o->comm[15] = '\0';
}

/* Keep b among s's RTV_STAGES_BLOCKERS largest overlaps. */
static void slow_keep(struct slow *s, const struct rtv_stages_blocker *b)
{
	int i = s->nb < RTV_STAGES_BLOCKERS ? s->nb++ : RTV_STAGES_BLOCKERS - 1;

	if (i == RTV_STAGES_BLOCKERS - 1 && s->nb == RTV_STAGES_BLOCKERS &&
	    s->b[i].ns >= b->ns && s->b[i].stage[0])
		return;
	s->b[i] = *b;
	for (; i > 0 && s->b[i].ns > s->b[i - 1].ns; i--) {
		struct rtv_stages_blocker t = s->b[i];

		s->b[i] = s->b[i - 1];
		s->b[i - 1] = t;
	}
}

/* The occupants of the CPU the window [t0, t1] ended on. */
static void window_blockers(const struct rtv_stages_agg *a, struct slow *s, const char *stage,
			    int cpu, int64_t t0, int64_t t1)
{
	if (cpu < 0 || cpu >= a->ncpus || t1 <= t0)
		return;
	for (int i = 0; i < OCC_RING; i++) {
		const struct occ *o = &a->occ[(size_t)cpu * OCC_RING + i];
		int64_t lo = o->start > t0 ? o->start : t0, hi = o->end < t1 ? o->end : t1;
		struct rtv_stages_blocker b = { 0 };

		if (!o->end || hi <= lo)
			continue;
		b.seq = s->seq;
		b.rtt_ns = s->rtt_ns;
		snprintf(b.stage, sizeof(b.stage), "%s", stage);
		b.cpu = cpu;
		memcpy(b.comm, o->comm, sizeof(b.comm));
		b.pid = o->pid;
		if (o->vec >= 0)
			snprintf(b.kind, sizeof(b.kind), "softirq:%s",
				 o->vec < 10 ? softirq_names[o->vec] : "?");
		else
			snprintf(b.kind, sizeof(b.kind), "%s", o->pid ? "task" : "idle");
		/* a softirq's comm and pid are the task it ran on top of */
		b.ns = hi - lo;
		slow_keep(s, &b);
	}
}

static void chain_blockers(const struct rtv_stages_agg *a, struct slow *s, const struct chain *c)
{
	char name[RTV_STAGES_NAME_LEN];

	for (int i = 1; i < c->npts; i++) {
		const struct point *p = &c->pts[i - 1], *q = &c->pts[i];

		/* waiting to be polled; the woken receiver waiting to run; a
		 * receiver that was not asleep, busy or preempted until its call */
		if (!((p->kind == RTV_STG_XMIT && q->kind == RTV_STG_RX) ||
		      (p->kind == RTV_STG_WAKE && q->kind == RTV_STG_RUN) ||
		      (p->kind == RTV_STG_RX && q->kind == RTV_STG_RET)))
			continue;
		stage_name(c->dir, p, q, name, sizeof(name));
		window_blockers(a, s, name, q->cpu, p->ts, q->ts);
	}
}

/* A round trip: among the slowest? Then find what held its CPUs. */
static void slow_consider(struct rtv_stages_agg *a, const struct chain *req,
			  const struct chain *rep, int64_t rtt)
{
	int i = a->nslow;
	struct slow s = { .seq = req->seq, .rtt_ns = rtt };

	if (a->nslow == a->topk) {
		if (a->slow[a->nslow - 1].rtt_ns >= rtt)
			return;
		i = a->nslow - 1;
	} else {
		a->nslow++;
	}
	chain_blockers(a, &s, req);
	chain_blockers(a, &s, rep);
	a->slow[i] = s;
	for (; i > 0 && a->slow[i].rtt_ns > a->slow[i - 1].rtt_ns; i--) {
		struct slow t = a->slow[i];

		a->slow[i] = a->slow[i - 1];
		a->slow[i - 1] = t;
	}
}

/* ---- joining ---- */

/* A datagram not followed to its receive call (lost, received outside the
 * traced namespace or host, evicted, or still on its way at the end): its
 * stages up to the last point seen count, its total does not. */
static void give_up(struct rtv_stages_agg *a, struct chain *c)
{
	char name[RTV_STAGES_NAME_LEN];

	c->used = false;
	if (c->pts[0].ts < a->since_ns)
		return;
	a->n.incomplete++;
	if (c->overflow || !monotone(c))
		return;
	for (int i = 1; i < c->npts; i++) {
		stage_name(c->dir, &c->pts[i - 1], &c->pts[i], name, sizeof(name));
		stage_record(a, name, i - 1, c->pts[i].ts - c->pts[i - 1].ts);
	}
}

static void finish(struct rtv_stages_agg *a, struct chain *c)
{
	char name[RTV_STAGES_NAME_LEN];

	c->used = false;
	if (c->pts[0].ts < a->since_ns)
		return;
	if (c->overflow) {
		a->n.incomplete++;
		return;
	}
	a->n.complete++;
	if (a->points)
		points_write(a, c);
	if (!monotone(c)) {
		a->n.nonmonotone++;
		return;
	}
	for (int i = 1; i < c->npts; i++) {
		stage_name(c->dir, &c->pts[i - 1], &c->pts[i], name, sizeof(name));
		stage_record(a, name, i - 1, c->pts[i].ts - c->pts[i - 1].ts);
	}
	stage_record(a, c->dir ? "rep total" : "req total", RTV_STAGES_MAX_POINTS,
		     c->pts[c->npts - 1].ts - c->pts[0].ts);

	struct chain *slot = &a->pairs[c->seq % PAIR_SLOTS];

	if (!c->dir) {
		*slot = *c;
		slot->used = true;
		return;
	}
	if (!slot->used || slot->tag != c->tag || slot->seq != c->seq)
		return;
	slot->used = false;
	int64_t rtt = c->pts[c->npts - 1].ts - slot->pts[0].ts;
	int64_t srv = c->pts[0].ts - slot->pts[slot->npts - 1].ts;

	if (srv < 0 || rtt < 0) {
		a->n.nonmonotone++;
		return;
	}
	a->n.paired++;
	stage_record(a, "srv", 0, srv);
	stage_record(a, "rtt", 0, rtt);
	slow_consider(a, slot, c, rtt);
}

static struct chain *chain_new(struct rtv_stages_agg *a, const struct rtv_stg_event *ev)
{
	struct chain *c = NULL;

	for (int i = 0; i < OPEN_MAX && !c; i++)
		if (!a->open[i].used)
			c = &a->open[i];
	if (!c) { /* evict the oldest */
		c = &a->open[0];
		for (int i = 1; i < OPEN_MAX; i++)
			if (a->open[i].pts[0].ts < c->pts[0].ts)
				c = &a->open[i];
		give_up(a, c);
	}
	memset(c, 0, offsetof(struct chain, pts));
	c->used = true;
	c->dir = ev->aux & RTV_STG_REPLY;
	c->skb = ev->skb;
	c->tag = ev->tag;
	c->seq = ev->seq;
	return c;
}

/* The open datagram ev belongs to: the same direction and skb (and payload
 * with payload), the latest of them; or with the same payload only (skb 0). */
static struct chain *chain_find(struct rtv_stages_agg *a, const struct rtv_stg_event *ev,
				bool payload)
{
	struct chain *best = NULL;

	for (int i = 0; i < OPEN_MAX; i++) {
		struct chain *c = &a->open[i];

		if (!c->used || c->dir != (ev->aux & RTV_STG_REPLY) ||
		    (ev->skb && c->skb != ev->skb) ||
		    (payload && (c->tag != ev->tag || c->seq != ev->seq)))
			continue;
		if (!best || (ev->skb ? c->pts[0].ts > best->pts[0].ts :
					c->pts[0].ts < best->pts[0].ts))
			best = c;
	}
	return best;
}

/* Give up the datagrams open for longer than RTV_STAGES_OPEN_NS at now. */
static void expire(struct rtv_stages_agg *a, int64_t now)
{
	for (int i = 0; i < OPEN_MAX; i++) {
		struct chain *c = &a->open[i];

		if (c->used && now - c->pts[0].ts > RTV_STAGES_OPEN_NS)
			give_up(a, c);
	}
}

static void append(struct chain *c, const struct rtv_stg_event *ev)
{
	struct point *p;

	if (c->npts >= RTV_STAGES_MAX_POINTS) {
		c->overflow = true;
		return;
	}
	p = &c->pts[c->npts++];
	p->ts = (int64_t)ev->ts;
	p->kind = (uint8_t)ev->kind;
	p->softirq = !!(ev->aux & RTV_STG_SOFTIRQ);
	p->cpu = (uint16_t)ev->cpu;
	p->pid = (int32_t)ev->pid;
	memcpy(p->dev, ev->dev, sizeof(p->dev));
	p->dev[15] = '\0';
}

/* The polling context of an rx event, by its softirq bit and the polling
 * thread's name. */
static const char *poll_context(const struct rtv_stg_event *ev)
{
	if (ev->aux & RTV_STG_SOFTIRQ)
		return strncmp(ev->comm, "ksoftirqd/", 10) ? "NET_RX softirq" : "ksoftirqd";
	if (!strncmp(ev->comm, "napi/", 5))
		return "NAPI kthread";
	if (!strncmp(ev->comm, "rtv-poll", 8))
		return "poller";
	return "thread";
}

static void poll_add(struct rtv_stages_agg *a, const char *dev, const char *context,
		     uint64_t cpus, uint64_t count)
{
	int i;

	for (i = 0; i < a->npolls; i++)
		if (a->polls[i].context == context && !strncmp(a->polls[i].dev, dev, 15))
			break;
	if (i == a->npolls) {
		if (a->npolls == RTV_STAGES_POLL_ROWS) {
			a->n.unjoined += count;
			return;
		}
		a->npolls++;
		snprintf(a->polls[i].dev, sizeof(a->polls[i].dev), "%.15s", dev);
		a->polls[i].context = context;
		a->polls[i].cpus = 0;
		a->polls[i].count = 0;
	}
	a->polls[i].cpus |= cpus;
	a->polls[i].count += count;
}

void rtv_stages_agg_add(struct rtv_stages_agg *a, const struct rtv_stg_event *ev)
{
	struct chain *c;

	a->n.events++;
	switch (ev->kind) {
	case RTV_STG_OCC:
	case RTV_STG_SIRQ:
		occ_add(a, ev);
		return;
	case RTV_STG_RET:
		c = chain_find(a, &(struct rtv_stg_event){ .aux = ev->aux, .tag = ev->tag,
							    .seq = ev->seq }, true);
		if (!c) {
			a->n.unjoined++;
			return;
		}
		append(c, ev);
		finish(a, c);
		return;
	case RTV_STG_SEND:
		expire(a, (int64_t)ev->ts);
		c = chain_find(a, ev, true);
		if (c) /* the same datagram sent again: the first went nowhere we saw */
			give_up(a, c);
		c = chain_new(a, ev);
		break;
	case RTV_STG_XMIT:
	case RTV_STG_RX:
		if (ev->kind == RTV_STG_RX && (int64_t)ev->ts >= a->since_ns)
			poll_add(a, ev->dev, poll_context(ev), ev->cpu < 64 ? UINT64_C(1) << ev->cpu : 0,
				 1);
		c = chain_find(a, ev, true);
		if (!c) { /* from a sender not traced */
			expire(a, (int64_t)ev->ts);
			c = chain_new(a, ev);
		}
		break;
	case RTV_STG_WAKE:
	case RTV_STG_RUN:
		c = ev->skb ? chain_find(a, ev, false) : NULL;
		/* a wake-up follows a receive, a run its wake-up; another is a
		 * stale one of an skb address reused */
		if (c && c->npts > 0 &&
		    c->pts[c->npts - 1].kind != (ev->kind == RTV_STG_WAKE ? RTV_STG_RX : RTV_STG_WAKE))
			c = NULL;
		if (!c) {
			a->n.unjoined++;
			return;
		}
		break;
	default:
		a->n.unjoined++;
		return;
	}
	append(c, ev);
}

void rtv_stages_agg_flush(struct rtv_stages_agg *a)
{
	for (int i = 0; i < OPEN_MAX; i++)
		if (a->open[i].used)
			give_up(a, &a->open[i]);
}

void rtv_stages_agg_merge(struct rtv_stages_agg *dst, const struct rtv_stages_agg *src)
{
	for (int i = 0; i < src->nstages; i++) {
		struct rtv_hist *h = stage_hist(dst, src->stages[i].name, src->stages[i].pos);

		if (h)
			rtv_hist_merge(h, &src->stages[i].h);
		else
			dst->n.unnamed += src->stages[i].h.count;
	}
	for (int i = 0; i < src->nslow; i++) {
		const struct slow *s = &src->slow[i];
		int j = dst->nslow;

		if (dst->nslow == dst->topk) {
			if (dst->slow[dst->nslow - 1].rtt_ns >= s->rtt_ns)
				continue;
			j = dst->nslow - 1;
		} else {
			dst->nslow++;
		}
		dst->slow[j] = *s;
		for (; j > 0 && dst->slow[j].rtt_ns > dst->slow[j - 1].rtt_ns; j--) {
			struct slow t = dst->slow[j];

			dst->slow[j] = dst->slow[j - 1];
			dst->slow[j - 1] = t;
		}
	}
	for (int i = 0; i < src->npolls; i++)
		poll_add(dst, src->polls[i].dev, src->polls[i].context, src->polls[i].cpus,
			 src->polls[i].count);
	dst->n.events += src->n.events;
	dst->n.complete += src->n.complete;
	dst->n.paired += src->n.paired;
	dst->n.incomplete += src->n.incomplete;
	dst->n.nonmonotone += src->n.nonmonotone;
	dst->n.unjoined += src->n.unjoined;
	dst->n.unnamed += src->n.unnamed;
	dst->n.drops += src->n.drops;
}

int rtv_stages_agg_nstages(const struct rtv_stages_agg *a)
{
	return a->nstages;
}

const char *rtv_stages_agg_name(const struct rtv_stages_agg *a, int i)
{
	return i >= 0 && i < a->nstages ? a->stages[i].name : NULL;
}

const struct rtv_hist *rtv_stages_agg_hist(const struct rtv_stages_agg *a, int i)
{
	return i >= 0 && i < a->nstages ? &a->stages[i].h : NULL;
}

const struct rtv_hist *rtv_stages_agg_find(const struct rtv_stages_agg *a, const char *name)
{
	for (int i = 0; i < a->nstages; i++)
		if (!strcmp(a->stages[i].name, name))
			return &a->stages[i].h;
	return NULL;
}

int rtv_stages_agg_blockers(const struct rtv_stages_agg *a, struct rtv_stages_blocker *out,
			    int max)
{
	int n = 0;

	for (int i = 0; i < a->nslow; i++)
		for (int j = 0; j < a->slow[i].nb; j++, n++)
			if (out && n < max)
				out[n] = a->slow[i].b[j];
	return n;
}

void rtv_stages_agg_counts(const struct rtv_stages_agg *a, struct rtv_stages_counts *c)
{
	*c = a->n;
}

json_t *rtv_stages_agg_counts_json(const struct rtv_stages_agg *a)
{
	json_t *cnt = json_object();

	rtv_json_set_int(cnt, "complete", (int64_t)a->n.complete);
	rtv_json_set_int(cnt, "paired", (int64_t)a->n.paired);
	rtv_json_set_int(cnt, "incomplete", (int64_t)a->n.incomplete);
	rtv_json_set_int(cnt, "nonmonotone", (int64_t)a->n.nonmonotone);
	rtv_json_set_int(cnt, "unjoined", (int64_t)a->n.unjoined);
	rtv_json_set_int(cnt, "kernel_drops", (int64_t)a->n.drops);
	return cnt;
}

static double us(int64_t ns)
{
	return (double)ns / 1000.0;
}

int rtv_stages_agg_polls(const struct rtv_stages_agg *a, struct rtv_stages_poll *out, int max)
{
	for (int i = 0; out && i < a->npolls && i < max; i++)
		out[i] = a->polls[i];
	return a->npolls;
}

/* "0-1,3" of a 64-bit CPU mask. */
static void mask_list(uint64_t m, char *buf, size_t len)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < 64; c++)
		if (m & (UINT64_C(1) << c))
			CPU_SET(c, &set);
	if (rtv_cpulist_format(&set, buf, len) < 0)
		snprintf(buf, len, "?");
}

void rtv_stages_agg_polls_json(const struct rtv_stages_agg *a, const char *method, json_t *polls)
{
	char cpus[128];

	for (int i = 0; polls && i < a->npolls; i++) {
		json_t *o = json_object();

		if (method)
			rtv_json_set_str(o, "method", method);
		rtv_json_set_str(o, "dev", a->polls[i].dev);
		rtv_json_set_str(o, "context", a->polls[i].context);
		mask_list(a->polls[i].cpus, cpus, sizeof(cpus));
		rtv_json_set_str(o, "cpus", cpus);
		rtv_json_set_int(o, "count", (int64_t)a->polls[i].count);
		json_array_append_new(polls, o);
	}
}

void rtv_stages_agg_json(const struct rtv_stages_agg *a, const char *method, json_t *stages,
			 json_t *blockers)
{
	struct rtv_stages_blocker b[RTV_STAGES_TOPK_MAX * RTV_STAGES_BLOCKERS];
	int nb;

	for (int i = 0; stages && i < a->nstages; i++) {
		const struct rtv_hist *h = &a->stages[i].h;
		json_t *o = json_object();

		if (method)
			rtv_json_set_str(o, "method", method);
		rtv_json_set_str(o, "stage", a->stages[i].name);
		rtv_json_set_int(o, "count", (int64_t)h->count);
		rtv_json_set_num(o, "p50_us", us(rtv_hist_percentile(h, 50)));
		rtv_json_set_num(o, "p99_us", us(rtv_hist_percentile(h, 99)));
		rtv_json_set_num(o, "max_us", us(h->count ? h->max_ns : 0));
		json_array_append_new(stages, o);
	}
	nb = rtv_stages_agg_blockers(a, b, (int)(sizeof(b) / sizeof(b[0])));
	for (int i = 0; blockers && i < nb && i < (int)(sizeof(b) / sizeof(b[0])); i++) {
		json_t *o = json_object();

		if (method)
			rtv_json_set_str(o, "method", method);
		rtv_json_set_int(o, "seq", (int64_t)b[i].seq);
		rtv_json_set_num(o, "rtt_us", us(b[i].rtt_ns));
		rtv_json_set_str(o, "stage", b[i].stage);
		rtv_json_set_int(o, "cpu", b[i].cpu);
		rtv_json_set_str(o, "comm", b[i].comm);
		rtv_json_set_int(o, "pid", b[i].pid);
		rtv_json_set_str(o, "kind", b[i].kind);
		rtv_json_set_num(o, "us", us(b[i].ns));
		json_array_append_new(blockers, o);
	}
}

void rtv_stages_agg_write(FILE *out, const struct rtv_stages_agg *a, const char *method)
{
	fprintf(out, "%-12s %-44s %8s %9s %9s %9s\n", "method", "stage", "count", "p50 us",
		"p99 us", "max us");
	for (int i = 0; i < a->nstages; i++) {
		const struct rtv_hist *h = &a->stages[i].h;

		fprintf(out, "%-12s %-44s %8" PRIu64 " %9.1f %9.1f %9.1f\n", method ? method : "-",
			a->stages[i].name, h->count, us(rtv_hist_percentile(h, 50)),
			us(rtv_hist_percentile(h, 99)), us(h->count ? h->max_ns : 0));
	}
	fprintf(out, "%s: %" PRIu64 " datagrams followed, %" PRIu64 " round trips, %" PRIu64
		" incomplete, %" PRIu64 " out of order, %" PRIu64 " unjoined events, %" PRIu64
		" dropped by the kernel\n", method ? method : "trace", a->n.complete, a->n.paired,
		a->n.incomplete, a->n.nonmonotone, a->n.unjoined, a->n.drops);
	for (int i = 0; i < a->npolls; i++) {
		char cpus[128];

		mask_list(a->polls[i].cpus, cpus, sizeof(cpus));
		fprintf(out, "%s rx:%s polled by %s on CPU %s: %" PRIu64 "\n", method ? method : "trace",
			a->polls[i].dev, a->polls[i].context, cpus, a->polls[i].count);
	}
	if (!a->nslow)
		return;
	fprintf(out, "slowest round trips: what held the CPU while they waited\n");
	fprintf(out, "%-12s %8s %9s %-28s %3s %-16s %7s %-16s %8s\n", "method", "seq", "rtt us",
		"window", "cpu", "comm", "pid", "kind", "us");
	for (int i = 0; i < a->nslow; i++) {
		const struct slow *sl = &a->slow[i];

		if (!sl->nb)
			fprintf(out, "%-12s %8" PRIu64 " %9.1f (no occupant of a watched CPU in its waits)\n",
				method ? method : "-", sl->seq, us(sl->rtt_ns));
		for (int j = 0; j < sl->nb; j++) {
			const struct rtv_stages_blocker *b = &sl->b[j];

			fprintf(out, "%-12s %8" PRIu64 " %9.1f %-28s %3d %-16s %7d %-16s %8.1f\n",
				method ? method : "-", b->seq, us(b->rtt_ns), b->stage, b->cpu, b->comm,
				b->pid, b->kind, us(b->ns));
		}
	}
}

/* ---- the tracer ---- */

struct rtv_stages {
	struct rtv_stages_bpf *skel;
	struct ring_buffer *rb;
	struct rtv_stages_agg *agg;
	int ndrops_cpus;
	uint64_t drops_base; /* the kernel's count at the last mark */
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct rtv_stages *s = ctx;

	if (size >= sizeof(struct rtv_stg_event))
		rtv_stages_agg_add(s->agg, data);
	return 0;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int rtv_stages_open(struct rtv_stages **sp, const struct rtv_stages_cfg *cfg, char *why,
		    size_t len)
{
	char dummy[8];
	struct rtv_stages *s;
	struct bpf_program *prog;
	int ncpus = libbpf_num_possible_cpus(), topk, err;
	uint64_t mask = 0;

	if (!why) {
		why = dummy;
		len = sizeof(dummy);
	}
	why[0] = '\0';
	if (!sp || !cfg || !cfg->port)
		return -EINVAL;
	*sp = NULL;
	topk = cfg->topk ? cfg->topk : RTV_STAGES_DEFAULT_TOPK;
	if (topk < 1 || topk > RTV_STAGES_TOPK_MAX || ncpus < 1)
		return -EINVAL;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return -ENOENT;
	}
	for (int c = 0; c < 64 && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &cfg->rt_cpus))
			mask |= UINT64_C(1) << c;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = rtv_stages_agg_new(&s->agg, ncpus, topk);
	if (err < 0)
		goto fail;
	libbpf_set_print(silent);
	s->skel = rtv_stages_bpf__open();
	if (!s->skel) {
		err = -errno ? -errno : -ENOMEM;
		snprintf(why, len, "cannot open the BPF object");
		goto fail;
	}
	s->skel->rodata->port = cfg->port;
	s->skel->rodata->netns_ino = cfg->netns_ino;
	s->skel->rodata->rt_cpu_mask = mask;
	s->skel->rodata->min_occ_ns =
		(uint64_t)(cfg->min_occ_ns > 0 ? cfg->min_occ_ns : RTV_STAGES_DEFAULT_MIN_OCC_NS);
	s->skel->rodata->nr_sendto = SYS_sendto;
	s->skel->rodata->nr_sendmsg = SYS_sendmsg;
	s->skel->rodata->nr_sendmmsg = SYS_sendmmsg;
	s->skel->rodata->nr_recvfrom = SYS_recvfrom;
	s->skel->rodata->nr_recvmsg = SYS_recvmsg;
	s->skel->rodata->nr_recvmmsg = SYS_recvmmsg;
	err = rtv_stages_bpf__load(s->skel);
	if (err) {
		err = err < 0 ? err : -EINVAL;
		snprintf(why, len, "cannot load the BPF programs: %s%s", strerror(-err),
			 err == -EPERM ? " (run as root)" : "");
		goto fail;
	}
	bpf_object__for_each_program(prog, s->skel->obj) {
		struct bpf_link *l = bpf_program__attach(prog);

		if (!l) {
			err = -errno ? -errno : -EINVAL;
			snprintf(why, len, "cannot attach '%s' (%s): %s", bpf_program__name(prog),
				 bpf_program__section_name(prog), strerror(-err));
			goto fail;
		}
		/* the skeleton's links, destroyed with it */
		for (int i = 0; i < s->skel->skeleton->prog_cnt; i++)
			if (*s->skel->skeleton->progs[i].prog == prog)
				*s->skel->skeleton->progs[i].link = l;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_event, s, NULL);
	if (!s->rb) {
		err = -errno ? -errno : -ENOMEM;
		snprintf(why, len, "cannot map the ring buffer: %s", strerror(-err));
		goto fail;
	}
	s->ndrops_cpus = ncpus;
	*sp = s;
	return 0;
fail:
	rtv_stages_free(s);
	return err;
}

static uint64_t drops_sum(struct rtv_stages *s)
{
	uint64_t v[NCPUS_MAX] = { 0 }, sum = 0;
	uint32_t k = 0;

	if (s->ndrops_cpus > NCPUS_MAX ||
	    bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.drops), &k, v))
		return 0;
	for (int i = 0; i < s->ndrops_cpus; i++)
		sum += v[i];
	return sum;
}

static void read_drops(struct rtv_stages *s)
{
	s->agg->n.drops = drops_sum(s) - s->drops_base;
}

void rtv_stages_mark(struct rtv_stages *s, int64_t since_ns)
{
	if (!s)
		return;
	rtv_stages_poll(s, 0);
	rtv_stages_agg_reset(s->agg, since_ns);
	s->drops_base = drops_sum(s);
}

int rtv_stages_poll(struct rtv_stages *s, int timeout_ms)
{
	int n;

	if (!s)
		return -EINVAL;
	if (timeout_ms > 0) /* the kernel does not wake us: see stages.bpf.c */
		rtv_sleep_until_ns(rtv_now_ns() + (int64_t)timeout_ms * RTV_NS_PER_MS);
	n = ring_buffer__consume(s->rb);
	read_drops(s);
	if (n == -EINTR)
		n = 0;
	return n;
}

struct rtv_stages_agg *rtv_stages_agg_of(struct rtv_stages *s)
{
	return s ? s->agg : NULL;
}

void rtv_stages_free(struct rtv_stages *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	rtv_stages_bpf__destroy(s->skel);
	rtv_stages_agg_free(s->agg);
	free(s);
}

/* ---- the evidence probe ---- */

static int stages_check(const void *cfg, char *why, size_t len)
{
	(void)cfg;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "the kernel has no BTF (/sys/kernel/btf/vmlinux): no stage tracer");
		return -ENOENT;
	}
	if (geteuid()) {
		snprintf(why, len, "the stage tracer loads BPF programs: run as root");
		return -EPERM;
	}
	return 0;
}

static int stages_start(struct rtv_pctx *c)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;
	struct rtv_stages_cfg sc = { .port = cfg->port, .rt_cpus = cfg->rt_cpus };
	int err;

	json_decref(cfg->run_obj);
	cfg->run_obj = NULL;
	err = rtv_stages_open(&cfg->tr, &sc, cfg->why, sizeof(cfg->why));
	if (err < 0) {
		cfg->err = err;
		cfg->tr = NULL; /* this run has no stages; the others may */
	}
	return 0;
}

static void stages_mark(struct rtv_pctx *c)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;

	rtv_stages_mark(cfg->tr, c->t_mark);
}

static int stages_poll(struct rtv_pctx *c, int timeout_ms)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;

	(void)timeout_ms;
	if (cfg->tr)
		rtv_stages_poll(cfg->tr, 0);
	return 0;
}

/* The arm's merged aggregator, made on its first run. */
static struct rtv_stages_agg *arm_agg(struct rtv_stages_probe_cfg *cfg, const char *arm)
{
	int i;

	for (i = 0; i < cfg->narms; i++)
		if (!strcmp(cfg->arm[i], arm))
			return cfg->merged[i];
	if (cfg->narms >= RTV_STAGES_ARMS_MAX ||
	    rtv_stages_agg_new(&cfg->merged[i], libbpf_num_possible_cpus(),
			       RTV_STAGES_DEFAULT_TOPK) < 0)
		return NULL;
	snprintf(cfg->arm[i], sizeof(cfg->arm[i]), "%s", arm);
	cfg->narms++;
	return cfg->merged[i];
}

static void stages_collect(struct rtv_pctx *c)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;
	struct rtv_stages_agg *a, *m;
	json_t *o;

	if (!cfg->tr)
		return;
	rtv_stages_poll(cfg->tr, 0);
	a = rtv_stages_agg_of(cfg->tr);
	rtv_stages_agg_flush(a);
	m = arm_agg(cfg, c->arm ? c->arm : "-");
	if (m)
		rtv_stages_agg_merge(m, a);
	o = json_object();
	json_object_set_new(o, "rows", json_array());
	json_object_set_new(o, "blockers", json_array());
	json_object_set_new(o, "polls", json_array());
	rtv_stages_agg_json(a, NULL, json_object_get(o, "rows"), json_object_get(o, "blockers"));
	rtv_stages_agg_polls_json(a, NULL, json_object_get(o, "polls"));
	json_object_set_new(o, "counts", rtv_stages_agg_counts_json(a));
	json_decref(cfg->run_obj);
	cfg->run_obj = o;
}

static void stages_stop(struct rtv_pctx *c)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;

	rtv_stages_free(cfg->tr);
	cfg->tr = NULL;
}

static void stages_series_json(const struct rtv_pctx *c, int i, json_t *o)
{
	struct rtv_stages_probe_cfg *cfg = c->cfg;

	if (i == 0 && cfg->run_obj) {
		json_object_set_new(o, "stages", cfg->run_obj);
		cfg->run_obj = NULL;
	}
}

static void stages_release(void *cfgp)
{
	struct rtv_stages_probe_cfg *cfg = cfgp;

	rtv_stages_free(cfg->tr);
	cfg->tr = NULL;
	json_decref(cfg->run_obj);
	cfg->run_obj = NULL;
}

void rtv_stages_probe_cfg_release(struct rtv_stages_probe_cfg *cfg)
{
	if (!cfg)
		return;
	stages_release(cfg);
	for (int i = 0; i < cfg->narms; i++)
		rtv_stages_agg_free(cfg->merged[i]);
	cfg->narms = 0;
}

void rtv_stages_probe_json(const struct rtv_stages_probe_cfg *cfg, json_t *stages,
			   json_t *blockers, json_t *polls)
{
	for (int i = 0; i < cfg->narms; i++) {
		rtv_stages_agg_json(cfg->merged[i], cfg->arm[i], stages, blockers);
		rtv_stages_agg_polls_json(cfg->merged[i], cfg->arm[i], polls);
	}
}

void rtv_stages_probe_write(FILE *out, const struct rtv_stages_probe_cfg *cfg)
{
	for (int i = 0; i < cfg->narms; i++) {
		rtv_stages_agg_write(out, cfg->merged[i], cfg->arm[i]);
		fputc('\n', out);
	}
}

const struct rtv_probe rtv_probe_stages = {
	.name = "stages",
	.summary = "per-stage latency of the RT datagrams and the RT CPUs' occupants (BPF)",
	.role = RTV_PROBE_EVIDENCE,
	.check = stages_check,
	.start = stages_start,
	.mark = stages_mark,
	.poll = stages_poll,
	.collect = stages_collect,
	.stop = stages_stop,
	.series_json = stages_series_json,
	.release = stages_release,
};
