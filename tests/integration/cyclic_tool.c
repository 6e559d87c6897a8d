/* cyclic_tool: runs Debian's cyclictest with the command line of
 * lib/probe/cyclictest.c and reads back what it wrote, for
 * t1000-runtimes-cyclictest.sh. Built with the unit tests, never installed,
 * not a user interface.
 *
 *   cyclic_tool DIR SECONDS THREADS CPUS HIST_US
 *       CPUS "-" for unpinned, HIST_US 0 for no histogram
 *
 * Writes DIR/cyclictest.json (--json), DIR/cyclictest.txt (its stdout) and
 * DIR/cdf.svg, then prints the argv ("argv: ..."), one line per source
 * ("json: ..." and "text: ...": threads, samples, overflows, min avg max and
 * p50 p99 p99.9 in ns, -1 unknown), per thread "thread I: cycles C
 * overflows O", and "crosscheck: ok" or "crosscheck: MESSAGE". Exits 0 when
 * cyclictest ran, both parsed and they agree; 1 otherwise; 2 on a usage
 * error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/cyclictest.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *t = realloc(s, cap = 2 * cap + 8192);

			if (!t) {
				free(s);
				fclose(f);
				return NULL;
			}
			s = t;
		}
		got = fread(s + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	s[n] = '\0';
	*len = n;
	return s;
}

static void show(const char *what, const struct rtv_cyclic_result *r)
{
	printf("%s: threads %d samples %llu overflows %llu min %lld avg %.0f max %lld p50 %lld "
	       "p99 %lld p999 %lld\n", what, r->nthreads, (unsigned long long)r->samples,
	       (unsigned long long)r->overflows, (long long)r->min_ns, r->avg_ns,
	       (long long)r->max_ns, (long long)r->p50_ns, (long long)r->p99_ns,
	       (long long)r->p999_ns);
	for (int i = 0; i < r->nthreads; i++)
		printf("%s thread %d: cycles %llu overflows %llu\n", what, i,
		       (unsigned long long)r->thread[i].cycles,
		       (unsigned long long)r->thread[i].overflows);
}

int main(int argc, char **argv)
{
	static struct rtv_cyclic_result j, t;
	char json[4096], txt[4096], svg[4096], buf[4096], err[512];
	char *args[RTV_CYCLIC_MAX_ARGS], *jtext, *ttext;
	struct rtv_cyclic_cfg c;
	size_t jlen, tlen;
	int n, status, fd;
	pid_t pid;
	FILE *f;

	if (argc != 6) {
		fprintf(stderr, "usage: cyclic_tool DIR SECONDS THREADS CPUS|- HIST_US\n");
		return 2;
	}
	snprintf(json, sizeof(json), "%s/cyclictest.json", argv[1]);
	snprintf(txt, sizeof(txt), "%s/cyclictest.txt", argv[1]);
	snprintf(svg, sizeof(svg), "%s/cdf.svg", argv[1]);
	rtv_cyclic_cfg_init(&c);
	c.duration_ns = atoll(argv[2]) * 1000000000LL;
	c.threads = atoi(argv[3]);
	c.cpus = strcmp(argv[4], "-") ? argv[4] : NULL;
	c.hist_max_us = atoi(argv[5]);
	c.json_path = json;
	n = rtv_cyclic_argv(&c, "cyclictest", args, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "cyclic_tool: bad settings: %s\n", strerror(-n));
		return 2;
	}
	printf("argv:");
	for (int i = 0; i < n; i++)
		printf(" %s", args[i]);
	printf("\n");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		fd = open(txt, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execvp(args[0], args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cyclic_tool: cyclictest failed (status %#x)\n", status);
		return 1;
	}
	jtext = slurp(json, &jlen);
	ttext = slurp(txt, &tlen);
	if (!jtext || !ttext) {
		fprintf(stderr, "cyclic_tool: cannot read '%s'\n", jtext ? txt : json);
		return 1;
	}
	if (rtv_cyclic_parse_json(jtext, jlen, &j, NULL, err, sizeof(err))) {
		fprintf(stderr, "cyclic_tool: %s\n", err);
		return 1;
	}
	if (rtv_cyclic_parse_text(ttext, &t, err, sizeof(err))) {
		fprintf(stderr, "cyclic_tool: %s\n", err);
		return 1;
	}
	show("json", &j);
	show("text", &t);
	f = fopen(svg, "w");
	if (f) {
		const struct rtv_cyclic_result *r[2] = { &j, &t };
		const char *names[2] = { "from JSON", "from text" };

		if (rtv_cyclic_cdf_svg(f, "cyclictest", names, r, 2))
			fprintf(stderr, "cyclic_tool: cannot write '%s'\n", svg);
		fclose(f);
	}
	if (rtv_cyclic_crosscheck(&j, &t, err, sizeof(err))) {
		printf("crosscheck: %s\n", err);
		return 1;
	}
	printf("crosscheck: ok\n");
	free(jtext);
	free(ttext);
	return 0;
}
