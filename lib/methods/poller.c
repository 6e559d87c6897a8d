/* Poller threads driving NAPIs through io_uring static NAPI tracking (BUSY:
 * KBP's polling thread; HYBRID: EE-KBP's sleep/poll thread). See poller.h
 * for the design; the kernel facts it rests on (checked in the 6.18
 * sources):
 *
 * - io_uring/napi.c: IORING_REGISTER_NAPI with opcode IO_URING_NAPI_REGISTER_OP
 *   and op_param IO_URING_NAPI_TRACKING_STATIC sets ctx->napi_track_mode,
 *   napi_busy_poll_dt = busy_poll_to µs and prefer_busy_poll;
 *   IO_URING_NAPI_STATIC_ADD_ID adds an id (-EINVAL below MIN_NAPI_ID =
 *   NR_CPUS + 1, -EEXIST twice; an id no NAPI has is accepted).
 * - io_uring_enter(GETEVENTS, min_complete 1) -> io_cqring_wait(): with no
 *   CQE it calls io_napi_busy_loop() once, then waits (sleeps) for a CQE or
 *   the wait's timeout (-ETIME). __io_napi_busy_loop() polls for
 *   min(napi_busy_poll_dt, wait timeout - now); with one NAPI in the list
 *   napi_busy_loop_rcu() loops inside with io_napi_busy_loop_should_end()
 *   (a signal; io_should_wake(): enough CQEs, or cq_timeouts changed, i.e.
 *   a timeout request expired; time up), with several the list is walked
 *   again and again until the same test says stop. A wait timeout always
 *   means an hrtimer and a sleep after the busy loop, even an expired one;
 *   an expired timeout request makes the wait return at once.
 * - net/core/dev.c __napi_busy_loop(): takes the NAPI (SCHED | IN_BUSY_POLL,
 *   so napi_schedule() from the device finds it owned and raises no softirq;
 *   it only sets MISSED), calls ->poll(budget 8) and loops; with
 *   NAPI_F_END_ON_RESCHED (set by io_uring) it also ends when need_resched()
 *   — the call then sleeps until the slice's end, which is why the slice
 *   is short. The whole slice runs under rcu_read_lock() with preemption
 *   off. At the end busy_poll_stop() polls once more and hands the NAPI
 *   back (re-arms it). A NAPI that is already scheduled (softirq, kthread)
 *   is not taken: the call just spins until it is free. */
#include "methods/poller.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <linux/version.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "net/netns.h"
#include "util/time.h"

#include "util/banned.h"

/* include/uapi/linux/io_uring.h has static NAPI tracking from 6.13 on;
 * Debian 12's linux-libc-dev (6.1) has no NAPI registration at all. With
 * older headers the numbers are spelled out under the same names (values
 * from the kernel's uapi: IORING_REGISTER_NAPI = 27, the opcodes and
 * tracking strategies of enum io_uring_napi_op / _tracking_strategy). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define IORING_REGISTER_NAPI 27
enum {
	IO_URING_NAPI_REGISTER_OP = 0,
	IO_URING_NAPI_STATIC_ADD_ID = 1,
	IO_URING_NAPI_STATIC_DEL_ID = 2,
};
enum {
	IO_URING_NAPI_TRACKING_DYNAMIC = 0,
	IO_URING_NAPI_TRACKING_STATIC = 1,
	IO_URING_NAPI_TRACKING_INACTIVE = 255,
};
/* argument of IORING_(UN)REGISTER_NAPI; 16 bytes; pad and resv must be 0 */
struct io_uring_napi {
	__u32 busy_poll_to;    /* µs */
	__u8 prefer_busy_poll;
	__u8 opcode;           /* IO_URING_NAPI_* op */
	__u8 pad[2];
	__u32 op_param;        /* REGISTER_OP: tracking strategy; ADD/DEL: napi id */
	__u32 resv;
};
#endif

_Static_assert(sizeof(struct io_uring_napi) == 16, "struct io_uring_napi is 16 bytes");

/* an id above any MIN_NAPI_ID (NR_CPUS + 1) and unlikely to be a NAPI's */
#define PROBE_NAPI_ID 0x7ffffff0u

/* packet ring: 8 blocks of one page, 128-byte frames (header, address and
 * RTV_POLLER_SNAPLEN bytes fit) */
#define RING_BLOCKS 8
#define RING_FRAME  128

struct pkt_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned nframes;
	unsigned cur;
	int ifindex;
};

/* The ring, mapped for the SLICE_SQE way (one timeout SQE per slice). */
struct uring {
	int fd;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_entries, *sq_array;
	unsigned *cq_head, *cq_tail; /* CQEs are only counted off, never read */
};

struct rtv_poller {
	struct rtv_poller_cfg cfg;
	int64_t slice_ns;
	struct __kernel_timespec slice_ts; /* read by the kernel at each submission */
	struct uring u;
	int stop_fd; /* eventfd: wakes a sleeping HYBRID poller at stop */
	struct pkt_ring pr[RTV_POLLER_NAPI_MAX];
	int npr;
	bool has_cf;
	struct rtv_cpufreq cf;
	int cpufreq;

	pthread_t thread;
	bool thread_made;
	sem_t ready;
	bool sem_made;
	int start_err;
	clockid_t cpuclock;
	bool has_cpuclock;

	atomic_bool stop;
	atomic_int tid;
	atomic_bool running;
	atomic_int error;
	atomic_uint_fast64_t polls, frames, sleeps, wakeups, freq_writes, freq_errors;
	_Atomic int64_t asleep_ns;       /* finished sleeps */
	_Atomic int64_t asleep_since_ns; /* 0 while awake */
	_Atomic int64_t started_ns, ended_ns, cpu_ns_final;
	struct rtv_hist wake; /* recorded by the thread; copied with rtv_hist_load() */
};

/* ---- raw io_uring ---- */

/* io_uring_setup's errno as rtv_poller_probe() documents it */
static int setup_err(int e)
{
	if (e == ENOSYS)
		return -ENOSYS;
	if (e == EPERM || e == EACCES)
		return -EPERM;
	return -e;
}

static int uring_setup(void)
{
	struct io_uring_params prm;
	long fd;

	memset(&prm, 0, sizeof(prm));
	fd = syscall(__NR_io_uring_setup, 2, &prm);
	return fd < 0 ? setup_err(errno) : (int)fd;
}

static int uring_napi(int fd, uint8_t opcode, uint32_t op_param, uint32_t busy_poll_us,
		      bool prefer)
{
	struct io_uring_napi n;

	memset(&n, 0, sizeof(n));
	n.busy_poll_to = busy_poll_us;
	n.prefer_busy_poll = prefer;
	n.opcode = opcode;
	n.op_param = op_param;
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_NAPI, &n, 1) < 0)
		return -errno;
	return 0;
}

/* Register static tracking; the codes of a kernel without it become
 * -EOPNOTSUPP: before 6.9 the opcode is unknown (EINVAL), 6.9-6.12 take
 * op_param for a non-zero reserved field (EINVAL), no
 * CONFIG_NET_RX_BUSY_POLL gives EOPNOTSUPP. */
static int uring_napi_static(int fd, uint32_t busy_poll_us)
{
	int err = uring_napi(fd, IO_URING_NAPI_REGISTER_OP, IO_URING_NAPI_TRACKING_STATIC,
			     busy_poll_us, true);

	return err == -EINVAL || err == -EOPNOTSUPP ? -EOPNOTSUPP : err;
}

/* Set up the ring and map it (SQ ring, CQ ring, SQEs). */
static int uring_open(struct uring *u)
{
	struct io_uring_params prm;
	long fd;

	memset(&prm, 0, sizeof(prm));
	fd = syscall(__NR_io_uring_setup, 4, &prm);
	if (fd < 0)
		return setup_err(errno);
	u->fd = (int)fd;
	u->sq_len = prm.sq_off.array + prm.sq_entries * sizeof(unsigned);
	u->cq_len = prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe);
	if (prm.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_len > u->sq_len)
			u->sq_len = u->cq_len;
		u->cq_len = 0;
	}
	u->sq_map = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 u->fd, IORING_OFF_SQ_RING);
	if (u->sq_map == MAP_FAILED) {
		u->sq_map = NULL;
		return -errno;
	}
	if (u->cq_len) {
		u->cq_map = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
				 u->fd, IORING_OFF_CQ_RING);
		if (u->cq_map == MAP_FAILED) {
			u->cq_map = NULL;
			return -errno;
		}
	}
	u->sqes_len = prm.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		       IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		return -errno;
	}
	{
		uint8_t *sq = u->sq_map, *cq = u->cq_map ? u->cq_map : u->sq_map;

		u->sq_head = (unsigned *)(sq + prm.sq_off.head);
		u->sq_tail = (unsigned *)(sq + prm.sq_off.tail);
		u->sq_mask = (unsigned *)(sq + prm.sq_off.ring_mask);
		u->sq_entries = (unsigned *)(sq + prm.sq_off.ring_entries);
		u->sq_array = (unsigned *)(sq + prm.sq_off.array);
		u->cq_head = (unsigned *)(cq + prm.cq_off.head);
		u->cq_tail = (unsigned *)(cq + prm.cq_off.tail);
	}
	return 0;
}

static void uring_close(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map)
		munmap(u->cq_map, u->cq_len);
	if (u->sq_map)
		munmap(u->sq_map, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

/* Consume every CQE (only the slices' timeouts post any). */
static void uring_reap(struct uring *u)
{
	unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);

	__atomic_store_n(u->cq_head, tail, __ATOMIC_RELEASE);
}

int rtv_poller_probe(void)
{
	int fd = uring_setup(), err;

	if (fd < 0)
		return fd;
	err = uring_napi_static(fd, 0);
	if (!err) {
		err = uring_napi(fd, IO_URING_NAPI_STATIC_ADD_ID, PROBE_NAPI_ID, 0, false);
		if (err == -EINVAL)
			err = -EOPNOTSUPP;
	}
	close(fd);
	return err;
}

/* ---- the packet rings (HYBRID) ---- */

struct open_arg {
	const char *dev;
	struct pkt_ring *r;
};

static int ring_open(void *arg)
{
	struct open_arg *a = arg;
	struct pkt_ring *r = a->r;
	struct sock_filter keep[] = { BPF_STMT(BPF_RET | BPF_K, RTV_POLLER_SNAPLEN) };
	struct sock_fprog prog = { .len = 1, .filter = keep };
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req req;
	struct sockaddr_ll sll;
	int v, fd, err;
	void *map;

	if (page <= 0 || page % RING_FRAME)
		page = 4096;
	/* protocol 0: nothing is received before bind, once the ring is ready */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r->ifindex = (int)if_nametoindex(a->dev);
	if (!r->ifindex) {
		err = errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
		goto fail;
	}
	v = TPACKET_V2;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)))
		goto fail_errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		goto fail_errno;
	v = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v)))
		goto fail_errno;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = (unsigned)page;
	req.tp_block_nr = RING_BLOCKS;
	req.tp_frame_size = RING_FRAME;
	req.tp_frame_nr = (unsigned)(page / RING_FRAME) * RING_BLOCKS;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		goto fail_errno;
	map = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail_errno;
	r->map = map;
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->nframes = req.tp_frame_nr;
	r->cur = 0;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = r->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail_errno;
	r->fd = fd;
	return 0;

fail_errno:
	err = -errno;
fail:
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
	close(fd);
	return err;
}

static void ring_close(struct pkt_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

/* Take every frame the kernel has filled, hand it back, count it; with
 * first_ts, the earliest frame timestamp (CLOCK_REALTIME ns, 0 if none).
 * No system call. */
static unsigned ring_drain(struct pkt_ring *r, int64_t *first_ts)
{
	unsigned n = 0;

	while (n < r->nframes) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)(r->map + (size_t)r->cur * RING_FRAME);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (!(st & TP_STATUS_USER))
			break;
		if (first_ts) {
			int64_t ts = (int64_t)h->tp_sec * RTV_NS_PER_S + h->tp_nsec;

			if (!*first_ts || ts < *first_ts)
				*first_ts = ts;
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = r->cur + 1 == r->nframes ? 0 : r->cur + 1;
		n++;
	}
	return n;
}

static unsigned rings_drain(struct rtv_poller *p, int64_t *first_ts)
{
	unsigned n = 0;

	if (first_ts)
		*first_ts = 0;
	for (int i = 0; i < p->npr; i++)
		n += ring_drain(&p->pr[i], first_ts);
	return n;
}

/* ---- the hybrid state machine ---- */

void rtv_hybrid_init(struct rtv_hybrid *h, int64_t idle_ns, const struct rtv_cpufreq *cf,
		     rtv_cpufreq_write_fn w, void *arg, int64_t now_ns)
{
	memset(h, 0, sizeof(*h));
	h->idle_ns = idle_ns < 0 ? 0 : idle_ns;
	if (cf) {
		h->has_cf = true;
		h->cf = *cf;
	}
	h->write = w ? w : rtv_cpufreq_write_plain;
	h->write_arg = arg;
	h->last_work_ns = now_ns;
}

static void freq_step(struct rtv_hybrid *h, bool low)
{
	int err;

	if (!h->has_cf)
		return;
	err = low ? rtv_cpufreq_set_low(&h->cf, h->write, h->write_arg) :
		    rtv_cpufreq_set_high(&h->cf, h->write, h->write_arg);
	h->freq_writes++;
	if (err < 0) {
		h->freq_errors++;
		h->last_write_err = err;
		return;
	}
	h->low = low;
}

enum rtv_hybrid_action rtv_hybrid_step(struct rtv_hybrid *h, int64_t now_ns, unsigned new_frames)
{
	if (!h->asleep) {
		if (new_frames) {
			h->last_work_ns = now_ns;
			return RTV_HYBRID_POLL;
		}
		if (now_ns - h->last_work_ns < h->idle_ns)
			return RTV_HYBRID_POLL;
		/* Algorithm 1, line 13-14: minimise the frequency, sleep */
		freq_step(h, true);
		h->asleep = true;
		h->asleep_since_ns = now_ns;
		h->sleeps++;
		return RTV_HYBRID_SLEEP;
	}
	if (!new_frames)
		return RTV_HYBRID_SLEEP;
	/* line 2: woken, maximise the frequency, poll */
	if (h->low)
		freq_step(h, false);
	h->asleep = false;
	h->asleep_ns += now_ns - h->asleep_since_ns;
	h->asleep_since_ns = 0;
	h->last_work_ns = now_ns;
	h->wakeups++;
	return RTV_HYBRID_WOKE;
}

void rtv_hybrid_release(struct rtv_hybrid *h, int64_t now_ns)
{
	if (h->asleep) {
		h->asleep = false;
		h->asleep_ns += now_ns - h->asleep_since_ns;
		h->asleep_since_ns = 0;
	}
	if (h->low)
		freq_step(h, false);
}

/* ---- the thread ---- */

#define RELAXED memory_order_relaxed

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, RELAXED);
}

static void publish_hybrid(struct rtv_poller *p, const struct rtv_hybrid *h)
{
	atomic_store_explicit(&p->sleeps, h->sleeps, RELAXED);
	atomic_store_explicit(&p->wakeups, h->wakeups, RELAXED);
	atomic_store_explicit(&p->freq_writes, h->freq_writes, RELAXED);
	atomic_store_explicit(&p->freq_errors, h->freq_errors, RELAXED);
	atomic_store_explicit(&p->asleep_ns, h->asleep_ns, RELAXED);
	atomic_store_explicit(&p->asleep_since_ns, h->asleep_since_ns, RELAXED);
}

static int thread_setup(struct rtv_poller *p)
{
	struct sched_param sp = { .sched_priority = p->cfg.policy == SCHED_OTHER ? 0 : p->cfg.prio };
	char name[24]; /* cpu < CPU_SETSIZE: at most "rtv-poll/1023", within 15 */
	int err;

	atomic_store(&p->tid, (int)gettid());
	if (p->cfg.cpu >= 0)
		snprintf(name, sizeof(name), "rtv-poll/%d", p->cfg.cpu);
	else
		snprintf(name, sizeof(name), "rtv-poll");
	pthread_setname_np(pthread_self(), name);
	if (p->cfg.cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(p->cfg.cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			return -errno;
	}
	err = pthread_setschedparam(pthread_self(), p->cfg.policy, &sp);
	return -err;
}

/* One busy-poll call, ended by a timeout SQE (RTV_POLLER_SLICE_SQE): the
 * timer's expiry bumps cq_timeouts, io_should_wake() turns true, the busy
 * loop ends and io_cqring_wait() returns without sleeping. Returns 0 (also
 * on a signal), else -errno. No allocation: the SQE slot is the ring's. */
static int slice_sqe(struct rtv_poller *p)
{
	struct uring *u = &p->u;
	unsigned head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE), tail = *u->sq_tail;
	long r;

	/* an SQE the kernel did not take (EBUSY, EAGAIN) is submitted again */
	if (tail - head < *u->sq_entries) {
		unsigned idx = tail & *u->sq_mask;
		struct io_uring_sqe *sqe = &u->sqes[idx];

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_TIMEOUT;
		sqe->fd = -1;
		sqe->addr = (uint64_t)(uintptr_t)&p->slice_ts;
		sqe->len = 1;
		sqe->user_data = 1;
		u->sq_array[idx] = idx;
		__atomic_store_n(u->sq_tail, ++tail, __ATOMIC_RELEASE);
	}
	r = syscall(__NR_io_uring_enter, u->fd, tail - head, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	uring_reap(u);
	if (r >= 0 || errno == EINTR || errno == ETIME || errno == EBUSY || errno == EAGAIN)
		return 0;
	return -errno;
}

/* One busy-poll call, ended by the wait's own timeout (RTV_POLLER_SLICE_WAIT):
 * no SQE, returns -ETIME; but io_cqring_wait() arms an hrtimer and sleeps
 * for it after the busy loop, even when it has already expired. */
static int slice_wait(struct rtv_poller *p, const struct io_uring_getevents_arg *ea)
{
	long r = syscall(__NR_io_uring_enter, p->u.fd, 0, 1,
			 IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, ea, sizeof(*ea));

	if (r >= 0 || errno == ETIME || errno == EINTR)
		return 0;
	return -errno;
}

static int poll_slice(struct rtv_poller *p, const struct io_uring_getevents_arg *ea)
{
	return p->cfg.slice_end == RTV_POLLER_SLICE_WAIT ? slice_wait(p, ea) : slice_sqe(p);
}

static bool stopping(struct rtv_poller *p)
{
	return atomic_load_explicit(&p->stop, RELAXED);
}

static int run_busy(struct rtv_poller *p, const struct io_uring_getevents_arg *ea)
{
	int err = 0;

	while (!stopping(p) && !err) {
		err = poll_slice(p, ea);
		count(&p->polls, 1);
	}
	return err;
}

/* A socket error (ENETDOWN when the device goes down) makes poll() report
 * POLLERR until it is read; the socket resumes when the device is up. */
static void clear_errors(struct rtv_poller *p, const struct pollfd *pfd)
{
	for (int i = 0; i < p->npr; i++)
		if (pfd[i].revents & POLLERR) {
			int e;
			socklen_t len = sizeof(e);

			getsockopt(p->pr[i].fd, SOL_SOCKET, SO_ERROR, &e, &len);
		}
}

static int run_hybrid(struct rtv_poller *p, const struct io_uring_getevents_arg *ea)
{
	struct pollfd pfd[RTV_POLLER_NAPI_MAX + 1];
	struct rtv_hybrid h;
	int err = 0;

	for (int i = 0; i < p->npr; i++)
		pfd[i] = (struct pollfd){ .fd = p->pr[i].fd, .events = POLLIN };
	pfd[p->npr] = (struct pollfd){ .fd = p->stop_fd, .events = POLLIN };
	rtv_hybrid_init(&h, p->cfg.idle_ns, p->has_cf ? &p->cf : NULL, p->cfg.cf_write,
			p->cfg.cf_arg, rtv_now_ns());
	while (!stopping(p) && !err) {
		unsigned n;

		err = poll_slice(p, ea);
		count(&p->polls, 1);
		if (err)
			break;
		n = rings_drain(p, NULL);
		if (n)
			count(&p->frames, n);
		if (rtv_hybrid_step(&h, rtv_now_ns(), n) != RTV_HYBRID_SLEEP)
			continue;
		publish_hybrid(p, &h);
		while (!stopping(p)) {
			int64_t woke_rt, first_ts;
			int r = poll(pfd, (nfds_t)p->npr + 1, RTV_POLLER_SLEEP_MAX_MS);

			woke_rt = rtv_realtime_ns();
			if (r < 0 && errno != EINTR) {
				err = -errno;
				break;
			}
			if (r > 0)
				clear_errors(p, pfd);
			n = rings_drain(p, &first_ts);
			if (!n)
				continue;
			count(&p->frames, n);
			if (rtv_hybrid_step(&h, rtv_now_ns(), n) == RTV_HYBRID_WOKE) {
				if (first_ts && woke_rt >= first_ts)
					rtv_hist_record(&p->wake, woke_rt - first_ts);
				publish_hybrid(p, &h);
				break;
			}
		}
	}
	rtv_hybrid_release(&h, rtv_now_ns());
	publish_hybrid(p, &h);
	return err;
}

static void *poller_main(void *arg)
{
	struct rtv_poller *p = arg;
	struct io_uring_getevents_arg ea;
	struct timespec cpu;
	int err;

	memset(&ea, 0, sizeof(ea));
	ea.ts = (uint64_t)(uintptr_t)&p->slice_ts;
	err = thread_setup(p);
	atomic_store(&p->started_ns, rtv_now_ns());
	if (err) {
		p->start_err = err;
		sem_post(&p->ready);
		return NULL;
	}
	atomic_store(&p->running, true);
	sem_post(&p->ready);

	err = p->cfg.mode == RTV_POLLER_HYBRID ? run_hybrid(p, &ea) : run_busy(p, &ea);

	atomic_store(&p->error, err);
	if (!clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu))
		atomic_store(&p->cpu_ns_final, rtv_ts_to_ns(&cpu));
	atomic_store(&p->ended_ns, rtv_now_ns());
	atomic_store(&p->running, false);
	return NULL;
}

/* ---- start, stats, stop ---- */

static int check_cfg(const struct rtv_poller_cfg *cfg)
{
	if (!cfg || cfg->nnapi < 1 || cfg->nnapi > RTV_POLLER_NAPI_MAX || cfg->idle_ns < 0 ||
	    cfg->slice_ns < 0 || cfg->cpu < -1 || cfg->cpu >= CPU_SETSIZE ||
	    (cfg->mode != RTV_POLLER_BUSY && cfg->mode != RTV_POLLER_HYBRID) ||
	    (cfg->slice_end != RTV_POLLER_SLICE_SQE && cfg->slice_end != RTV_POLLER_SLICE_WAIT))
		return -EINVAL;
	if (cfg->mode == RTV_POLLER_HYBRID)
		for (int i = 0; i < cfg->nnapi; i++)
			if (!cfg->dev[i][0] || !memchr(cfg->dev[i], '\0', sizeof(cfg->dev[i])) ||
			    !memchr(cfg->netns[i], '\0', sizeof(cfg->netns[i])))
				return -EINVAL;
	return 0;
}

static int64_t slice_of(const struct rtv_poller_cfg *cfg)
{
	int64_t s = cfg->slice_ns ? cfg->slice_ns : RTV_POLLER_SLICE_NS;

	if (cfg->mode == RTV_POLLER_HYBRID && cfg->idle_ns / 4 < s)
		s = cfg->idle_ns / 4;
	if (s < RTV_POLLER_SLICE_MIN_NS)
		s = RTV_POLLER_SLICE_MIN_NS;
	if (s > RTV_POLLER_SLICE_MAX_NS)
		s = RTV_POLLER_SLICE_MAX_NS;
	return s;
}

/* One packet ring per distinct (netns, dev). */
static int open_rings(struct rtv_poller *p)
{
	const struct rtv_poller_cfg *c = &p->cfg;

	for (int i = 0; i < c->nnapi; i++) {
		struct open_arg a = { .dev = c->dev[i], .r = &p->pr[p->npr] };
		bool seen = false;
		int err;

		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(c->dev[j], c->dev[i]) && !strcmp(c->netns[j], c->netns[i]);
		if (seen)
			continue;
		err = c->netns[i][0] ? rtv_netns_run(c->netns[i], ring_open, &a) : ring_open(&a);
		if (err < 0)
			return err;
		p->npr++;
	}
	return 0;
}

static void poller_free(struct rtv_poller *p)
{
	for (int i = 0; i < RTV_POLLER_NAPI_MAX; i++)
		ring_close(&p->pr[i]);
	uring_close(&p->u);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->sem_made)
		sem_destroy(&p->ready);
	free(p);
}

int rtv_poller_start(struct rtv_poller **pp, const struct rtv_poller_cfg *cfg)
{
	struct rtv_poller *p;
	int err;

	if (!pp)
		return -EINVAL;
	err = check_cfg(cfg);
	if (err < 0)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->u.fd = p->stop_fd = -1;
	for (int i = 0; i < RTV_POLLER_NAPI_MAX; i++)
		p->pr[i].fd = -1;
	p->slice_ns = slice_of(cfg);
	p->cpufreq = -ENOENT;
	rtv_hist_init(&p->wake);

	p->slice_ts.tv_sec = p->slice_ns / RTV_NS_PER_S;
	p->slice_ts.tv_nsec = p->slice_ns % RTV_NS_PER_S;

	err = uring_open(&p->u);
	if (err < 0)
		goto fail;
	/* busy_poll_to beyond the slice: the slice's end (the timeout SQE, or
	 * the wait's timeout, which caps it) is what ends the busy loop */
	err = uring_napi_static(p->u.fd, (uint32_t)(2 * ((p->slice_ns + 999) / 1000)));
	if (err < 0)
		goto fail;
	for (int i = 0; i < cfg->nnapi; i++) {
		err = uring_napi(p->u.fd, IO_URING_NAPI_STATIC_ADD_ID, cfg->napi_id[i], 0, false);
		if (err == -EEXIST) /* the same id twice */
			err = 0;
		if (err < 0)
			goto fail;
	}
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	if (cfg->mode == RTV_POLLER_HYBRID) {
		err = open_rings(p);
		if (err < 0)
			goto fail;
		if (cfg->cpufreq_root && cfg->cpu >= 0) {
			err = rtv_cpufreq_probe(cfg->cpufreq_root, cfg->cpu, &p->cf);
			if (err < 0 && err != -ENOENT)
				goto fail;
			p->cpufreq = err;
			p->has_cf = !err;
		}
	}
	if (sem_init(&p->ready, 0, 0)) {
		err = -errno;
		goto fail;
	}
	p->sem_made = true;
	err = pthread_create(&p->thread, NULL, poller_main, p);
	if (err) {
		err = -err;
		goto fail;
	}
	p->thread_made = true;
	p->has_cpuclock = !pthread_getcpuclockid(p->thread, &p->cpuclock);
	while (sem_wait(&p->ready) && errno == EINTR)
		;
	if (p->start_err) {
		err = p->start_err;
		pthread_join(p->thread, NULL);
		goto fail;
	}
	*pp = p;
	return 0;

fail:
	poller_free(p);
	return err;
}

void rtv_poller_stats(const struct rtv_poller *cp, struct rtv_poller_stats *out)
{
	/* the counters are atomics; a reader changes nothing */
	struct rtv_poller *p = (struct rtv_poller *)cp;
	int64_t now = rtv_now_ns(), since, ended, started;
	struct timespec ts;

	memset(out, 0, sizeof(*out));
	rtv_hist_init(&out->wake);
	out->cpufreq = -ENOENT;
	if (!p)
		return;
	out->tid = atomic_load(&p->tid);
	out->mode = p->cfg.mode;
	out->cpu = p->cfg.cpu;
	out->nnapi = p->cfg.nnapi;
	out->running = atomic_load(&p->running);
	out->error = atomic_load(&p->error);
	out->cpufreq = p->cpufreq;
	out->polls = atomic_load_explicit(&p->polls, RELAXED);
	out->frames = atomic_load_explicit(&p->frames, RELAXED);
	out->sleeps = atomic_load_explicit(&p->sleeps, RELAXED);
	out->wakeups = atomic_load_explicit(&p->wakeups, RELAXED);
	out->freq_writes = atomic_load_explicit(&p->freq_writes, RELAXED);
	out->freq_errors = atomic_load_explicit(&p->freq_errors, RELAXED);
	out->asleep_ns = atomic_load_explicit(&p->asleep_ns, RELAXED);
	since = atomic_load_explicit(&p->asleep_since_ns, RELAXED);
	if (since && out->running)
		out->asleep_ns += now - since;
	started = atomic_load(&p->started_ns);
	ended = atomic_load(&p->ended_ns);
	out->wall_ns = started ? (ended ? ended : now) - started : 0;
	/* the thread's clock is valid while it exists; once it is gone, the
	 * value it stored on its way out (stored before running went false) */
	if (out->running && p->has_cpuclock && !clock_gettime(p->cpuclock, &ts))
		out->cpu_ns = rtv_ts_to_ns(&ts);
	else
		out->cpu_ns = atomic_load(&p->cpu_ns_final);
	out->wake_torn = rtv_hist_load(&out->wake, &p->wake) < 0;
}

void rtv_poller_stop(struct rtv_poller *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	if (p->thread_made) {
		atomic_store(&p->stop, true);
		if (write(p->stop_fd, &one, sizeof(one)) < 0) {
			/* the eventfd cannot be full; the flag is seen anyway */
		}
		pthread_join(p->thread, NULL);
	}
	poller_free(p);
}
