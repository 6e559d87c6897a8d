/* A program for tests/integration/t09*-outsource-*.sh and
 * bench/bench_outsource.sh to run under `rtvnet outsource run`: it makes
 * sockets and system calls the filter is about and prints what it got, one
 * line per result. Linked statically (no LD_PRELOAD could reach it) and
 * without rtvnet's library, so it is an ordinary program.
 *
 *   socket FAMILY TYPE [nonblock] [cloexec]  FAMILY inet|inet6|unix|netlink|packet,
 *                                      TYPE dgram|stream|raw: "ok ns=INO nonblock=B cloexec=B"
 *                                      or "err ENAME"
 *   ns                                 this process's network namespace inode
 *   iouring | int80 | int80socket | x32  the calls the filter denies: "ok" or "err ENAME"
 *   nested                             unshare(CLONE_NEWNET), then a UDP socket: "ok ns=INO self=INO"
 *   threads N                          N threads call socket() at once: "threads N ok K ns=INO|mixed
 *                                      fds_before=A fds_after=B"
 *   loop N MS                          N UDP sockets MS ms apart, one result line each
 *   echo PORT                          UDP echo on [::]:PORT until SIGTERM ("listening ns=INO")
 *   ping ADDR PORT                     one UDP datagram to ADDR:PORT, then "reply" or "timeout" (1 s)
 *   packet S                           an AF_PACKET socket that counts frames for S seconds:
 *                                      "packet ns=INO frames=N udp_to_PORT=M" (PORT from env
 *                                      RTV_PORT)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned long long ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (unsigned long long)st.st_ino;
}

/* the network namespace a socket belongs to (SIOCGSKNS), 0 when unknown */
static unsigned long long sock_ns(int fd)
{
	int nsfd = ioctl(fd, SIOCGSKNS);
	unsigned long long ino;

	if (nsfd < 0)
		return 0;
	ino = ino_of_fd(nsfd);
	close(nsfd);
	return ino;
}

static unsigned long long self_ns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : (unsigned long long)st.st_ino;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int family(const char *s)
{
	if (!strcmp(s, "inet"))
		return AF_INET;
	if (!strcmp(s, "inet6"))
		return AF_INET6;
	if (!strcmp(s, "unix"))
		return AF_UNIX;
	if (!strcmp(s, "netlink"))
		return AF_NETLINK;
	if (!strcmp(s, "packet"))
		return AF_PACKET;
	return -1;
}

static int sock_type(const char *s)
{
	if (!strcmp(s, "dgram"))
		return SOCK_DGRAM;
	if (!strcmp(s, "stream"))
		return SOCK_STREAM;
	if (!strcmp(s, "raw"))
		return SOCK_RAW;
	return -1;
}

static int do_socket(int argc, char **argv)
{
	int dom, type, proto = 0, fd, fl, fdfl;

	if (argc < 4 || (dom = family(argv[2])) < 0 || (type = sock_type(argv[3])) < 0)
		return 2;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "nonblock"))
			type |= SOCK_NONBLOCK;
		else if (!strcmp(argv[i], "cloexec"))
			type |= SOCK_CLOEXEC;
	}
	if ((type & 0xf) == SOCK_RAW)
		proto = dom == AF_PACKET ? htons(ETH_P_ALL) : dom == AF_NETLINK ? 0 : IPPROTO_ICMP;
	fd = socket(dom, type, proto);
	if (fd < 0) {
		printf("err %s\n", ename(errno));
		return 0;
	}
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	printf("ok ns=%llu nonblock=%d cloexec=%d\n", sock_ns(fd), !!(fl & O_NONBLOCK),
	       !!(fdfl & FD_CLOEXEC));
	close(fd);
	return 0;
}

static void print_ret(long r)
{
	if (r < 0)
		printf("err %s\n", ename(errno));
	else
		printf("ok\n");
}

/* an i386 system call through int $0x80 (the compat entry): -errno or value */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static pthread_barrier_t barrier;
static unsigned long long results[1024];
static int errs[1024];

static void *thread_fn(void *arg)
{
	long i = (long)arg;
	int fd;

	pthread_barrier_wait(&barrier);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errs[i] = errno;
		return NULL;
	}
	results[i] = sock_ns(fd);
	close(fd);
	return NULL;
}

static int do_threads(int n)
{
	pthread_t th[1024];
	int before, ok = 0;
	unsigned long long ns = 0;
	int mixed = 0;

	if (n < 1 || n > 1024)
		return 2;
	before = count_fds();
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, thread_fn, (void *)i))
			return 1;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < n; i++) {
		if (errs[i]) {
			printf("thread %d: err %s\n", i, ename(errs[i]));
			continue;
		}
		ok++;
		if (!ns)
			ns = results[i];
		else if (results[i] != ns)
			mixed = 1;
	}
	if (mixed)
		printf("threads %d ok %d ns=mixed fds_before=%d fds_after=%d\n", n, ok, before, count_fds());
	else
		printf("threads %d ok %d ns=%llu fds_before=%d fds_after=%d\n", n, ok, ns, before,
		       count_fds());
	return 0;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int do_echo(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_storage from;
	socklen_t fl;
	char buf[2048];
	int fd, v6only = 0;
	ssize_t n;
	struct sigaction sa = { .sa_handler = on_term }; /* no SA_RESTART: recvfrom returns */

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		printf("err %s\n", ename(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		printf("err bind %s\n", ename(errno));
		return 1;
	}
	printf("listening ns=%llu\n", sock_ns(fd));
	fflush(stdout);
	while (!stop) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	close(fd);
	return 0;
}

static int do_packet(int seconds)
{
	const char *p = getenv("RTV_PORT");
	int port = p ? atoi(p) : 0, fd, frames = 0, udp = 0;
	struct timespec t0, t;
	unsigned char buf[2048];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		printf("err %s\n", ename(errno));
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("packet-open ns=%llu\n", sock_ns(fd));
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= seconds)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			continue;
		frames++;
		/* IPv4 over Ethernet carrying UDP to port */
		if (n >= 14 + 20 + 8 && buf[12] == 0x08 && buf[13] == 0x00 && buf[14 + 9] == 17) {
			size_t ihl = (size_t)(buf[14] & 0xf) * 4;
			unsigned dport = (unsigned)buf[14 + ihl + 2] << 8 | buf[14 + ihl + 3];

			if ((int)dport == port)
				udp++;
		}
	}
	printf("packet ns=%llu frames=%d udp_to_port=%d\n", sock_ns(fd), frames, udp);
	close(fd);
	return 0;
}

static int do_ping(const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { .tv_sec = 1 };
	socklen_t len;
	char buf[64] = "rtv-ping";
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		printf("err %s\n", ename(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, buf, 8, 0, (struct sockaddr *)&ss, len) != 8 || recv(fd, buf, sizeof(buf), 0) != 8) {
		printf("timeout\n");
		return 1;
	}
	printf("reply\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "socket"))
		return do_socket(argc, argv);
	if (!strcmp(argv[1], "ns")) {
		printf("%llu\n", self_ns());
		return 0;
	}
	if (!strcmp(argv[1], "iouring")) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		print_ret(syscall(__NR_io_uring_setup, 4, &p));
		return 0;
	}
	if (!strcmp(argv[1], "int80")) { /* i386 socketcall(SYS_SOCKET, args) = 102 */
		unsigned int args[3] = { AF_INET, SOCK_DGRAM, 0 };
		long r = int80(102, 1, (long)(unsigned long)args, 0);

		if (r < 0)
			printf("err %s\n", ename((int)-r));
		else
			printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "int80socket")) { /* i386 socket = 359 */
		long r = int80(359, AF_INET, SOCK_DGRAM, 0);

		if (r < 0)
			printf("err %s\n", ename((int)-r));
		else
			printf("ok\n");
		return 0;
	}
	if (!strcmp(argv[1], "x32")) {
		print_ret(syscall(0x40000000 | 41, AF_INET, SOCK_DGRAM, 0));
		return 0;
	}
	if (!strcmp(argv[1], "nested")) {
		int fd;

		if (unshare(CLONE_NEWNET)) {
			printf("err unshare %s\n", ename(errno));
			return 1;
		}
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0) {
			printf("err %s\n", ename(errno));
			return 0;
		}
		printf("ok ns=%llu self=%llu\n", sock_ns(fd), self_ns());
		close(fd);
		return 0;
	}
	if (!strcmp(argv[1], "threads") && argc > 2)
		return do_threads(atoi(argv[2]));
	if (!strcmp(argv[1], "loop") && argc > 3) {
		int n = atoi(argv[2]), ms = atoi(argv[3]);

		for (int i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			if (fd < 0) {
				printf("loop %d err %s\n", i, ename(errno));
			} else {
				printf("loop %d ok ns=%llu\n", i, sock_ns(fd));
				close(fd);
			}
			nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
				  NULL);
		}
		return 0;
	}
	if (!strcmp(argv[1], "echo") && argc > 2)
		return do_echo(atoi(argv[2]));
	if (!strcmp(argv[1], "ping") && argc > 3)
		return do_ping(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "packet") && argc > 2)
		return do_packet(atoi(argv[2]));
	if (!strcmp(argv[1], "fds")) {
		printf("%d\n", count_fds());
		return 0;
	}
	return 2;
}
