/* The two taskset formats (see taskset.h). jansson finds syntax errors and
 * duplicate keys and reports their line and column; everything semantic is
 * checked here and reported as "task I 'NAME': ...", I counting from 0 in
 * input order. */
#include "taskset/taskset.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/time.h"
#include "util/banned.h"

/* Longest period, WCET or deadline accepted: an hour. Anything longer is a
 * unit mistake, and Σ over 1024 tasks of such values stays far from
 * INT64_MAX. */
#define MAX_TIME_NS (3600 * RTV_NS_PER_S)
/* Largest file rtv_taskset_load() reads. */
#define MAX_FILE_BYTES (16 << 20)

struct ctx {
	const char *origin;
	char *err;
	size_t errlen;
};

static int fail(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err && c->errlen) {
		n = snprintf(c->err, c->errlen, "%s: ", c->origin);
		if (n >= 0 && (size_t)n < c->errlen) {
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* A time field: a JSON number in `unit_ns` units, > 0 and at most an hour,
 * rounded to the nearest ns. Returns 0 or -EINVAL with the message. */
static int get_time(const struct ctx *c, int idx, const char *name, const json_t *v,
		    const char *key, int64_t unit_ns, int64_t *out)
{
	double x, ns;

	if (!json_is_number(v))
		return fail(c, "task %d '%s': '%s' is not a number", idx, name, key);
	x = json_number_value(v);
	ns = x * (double)unit_ns;
	if (!isfinite(ns))
		return fail(c, "task %d '%s': '%s' is not a finite number", idx, name, key);
	if (x < 0)
		return fail(c, "task %d '%s': '%s' is negative (%g)", idx, name, key, x);
	if (ns > (double)MAX_TIME_NS)
		return fail(c, "task %d '%s': '%s' is above one hour (%g)", idx, name, key, x);
	*out = (int64_t)llround(ns);
	if (*out <= 0)
		return fail(c, "task %d '%s': '%s' must be positive (%g)", idx, name, key, x);
	return 0;
}

static int set_name(const struct ctx *c, int idx, struct rtv_task *t, const char *name)
{
	size_t len = strlen(name);

	if (!len)
		return fail(c, "task %d: empty name", idx);
	if (len >= sizeof(t->name))
		return fail(c, "task %d '%.20s...': name longer than %zu bytes", idx, name,
			    sizeof(t->name) - 1);
	memcpy(t->name, name, len + 1);
	return 0;
}

/* {"tasks":[{"name","wcet_ms","period_ms","deadline_ms"?,"cpu"?}]} */
static int parse_own(const struct ctx *c, const json_t *tasks, struct rtv_taskset *ts)
{
	size_t n = json_array_size(tasks);
	int err;

	if (n > RTV_TASKSET_MAX)
		return fail(c, "%zu tasks, more than the %d allowed", n, RTV_TASKSET_MAX);
	ts->task = calloc(n ? n : 1, sizeof(*ts->task));
	if (!ts->task)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(tasks, i), *v;
		struct rtv_task *t = &ts->task[i];
		const char *key;
		int idx = (int)i;

		if (!json_is_object(o))
			return fail(c, "task %d: not an object", idx);
		v = json_object_get(o, "name");
		if (!v)
			return fail(c, "task %d: missing 'name'", idx);
		if (!json_is_string(v))
			return fail(c, "task %d: 'name' is not a string", idx);
		err = set_name(c, idx, t, json_string_value(v));
		if (err)
			return err;
		json_object_foreach((json_t *)o, key, v) {
			if (strcmp(key, "name") && strcmp(key, "wcet_ms") && strcmp(key, "period_ms") &&
			    strcmp(key, "deadline_ms") && strcmp(key, "cpu"))
				return fail(c, "task %d '%s': unknown field '%s'", idx, t->name, key);
		}
		if (!(v = json_object_get(o, "wcet_ms")))
			return fail(c, "task %d '%s': missing 'wcet_ms'", idx, t->name);
		if ((err = get_time(c, idx, t->name, v, "wcet_ms", RTV_NS_PER_MS, &t->wcet_ns)))
			return err;
		if (!(v = json_object_get(o, "period_ms")))
			return fail(c, "task %d '%s': missing 'period_ms'", idx, t->name);
		if ((err = get_time(c, idx, t->name, v, "period_ms", RTV_NS_PER_MS, &t->period_ns)))
			return err;
		t->deadline_ns = t->period_ns;
		if ((v = json_object_get(o, "deadline_ms")) &&
		    (err = get_time(c, idx, t->name, v, "deadline_ms", RTV_NS_PER_MS,
				    &t->deadline_ns)))
			return err;
		t->cpu = -1;
		t->prio = -1;
		if ((v = json_object_get(o, "cpu"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= 1024)
				return fail(c, "task %d '%s': 'cpu' is not a CPU number from 0 to 1023",
					    idx, t->name);
			t->cpu = (int)json_integer_value(v);
		}
		ts->n = idx + 1;
	}
	return 0;
}

/* rt-app's event names are matched by prefix ("run0", "timer1"), as rt-app
 * does; the thread properties it knows are skipped. */
static bool rtapp_property(const char *key)
{
	static const char *const props[] = { "instance", "loop", "policy", "priority", "cpus",
					     "delay", "dl-runtime", "dl-period", "dl-deadline",
					     "nice", "taskgroup", "util_min", "util_max", NULL };

	for (int i = 0; props[i]; i++)
		if (!strcmp(key, props[i]))
			return true;
	return false;
}

/* rt-app's policy names; -1 for one this model has no place for. */
static int rtapp_policy(const char *s)
{
	if (!strcmp(s, "SCHED_FIFO") || !strcmp(s, "SCHED_RR"))
		return 1;
	if (!strcmp(s, "SCHED_OTHER") || !strcmp(s, "SCHED_IDLE") || !strcmp(s, "SCHED_DEADLINE"))
		return 0;
	return -1;
}

/* One rt-app thread object into t (its instances are copied by the caller). */
static int parse_rtapp_task(const struct ctx *c, int idx, const char *name, const json_t *o,
			    int default_rt, struct rtv_task *t)
{
	const json_t *events = o, *phases, *v;
	const char *key;
	bool have_run = false, have_timer = false;
	int rt = default_rt, err;

	t->cpu = -1;
	t->prio = -1;
	phases = json_object_get(o, "phases");
	if (phases) {
		const char *pkey;
		json_t *p;

		if (!json_is_object(phases) || json_object_size(phases) == 0)
			return fail(c, "task %d '%s': 'phases' is not an object of phases", idx, name);
		if (json_object_size(phases) > 1)
			return fail(c, "task %d '%s': %zu phases, only single-phase periodic tasks are supported",
				    idx, name, json_object_size(phases));
		json_object_foreach((json_t *)phases, pkey, p)
			events = p;
		if (!json_is_object(events))
			return fail(c, "task %d '%s': its phase is not an object", idx, name);
	}
	t->wcet_ns = 0;
	json_object_foreach((json_t *)events, key, v) {
		int64_t ns;

		if (!strcmp(key, "phases") || rtapp_property(key))
			continue;
		if (!strncmp(key, "run", 3)) { /* "run" and "runtime" alike, µs */
			if ((err = get_time(c, idx, name, v, key, RTV_NS_PER_US, &ns)))
				return err;
			if (t->wcet_ns > MAX_TIME_NS - ns)
				return fail(c, "task %d '%s': run time above one hour", idx, name);
			t->wcet_ns += ns;
			have_run = true;
		} else if (!strncmp(key, "timer", 5)) {
			const json_t *per;

			if (have_timer)
				return fail(c, "task %d '%s': more than one timer", idx, name);
			if (!json_is_object(v))
				return fail(c, "task %d '%s': '%s' is not an object", idx, name, key);
			per = json_object_get(v, "period");
			if (!per)
				return fail(c, "task %d '%s': '%s' has no 'period'", idx, name, key);
			if ((err = get_time(c, idx, name, per, "period", RTV_NS_PER_US, &t->period_ns)))
				return err;
			have_timer = true;
		} else {
			return fail(c, "task %d '%s': event '%s' is not supported (periodic tasks: run or runtime, and timer)",
				    idx, name, key);
		}
	}
	if (!have_run)
		return fail(c, "task %d '%s': missing 'run' or 'runtime'", idx, name);
	if (!have_timer)
		return fail(c, "task %d '%s': missing 'timer' (not a periodic task)", idx, name);
	t->deadline_ns = t->period_ns;
	if ((v = json_object_get(o, "dl-deadline")) &&
	    (err = get_time(c, idx, name, v, "dl-deadline", RTV_NS_PER_US, &t->deadline_ns)))
		return err;
	if ((v = json_object_get(o, "policy"))) {
		if (!json_is_string(v) || (rt = rtapp_policy(json_string_value(v))) < 0)
			return fail(c, "task %d '%s': 'policy' is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE, SCHED_DEADLINE",
				    idx, name);
	}
	if (rt) {
		t->prio = 10; /* rt-app's default for the real-time classes */
		if ((v = json_object_get(o, "priority"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 99)
				return fail(c, "task %d '%s': 'priority' is not a real-time priority from 1 to 99",
					    idx, name);
			t->prio = (int)json_integer_value(v);
		}
	} else if ((v = json_object_get(o, "priority")) && !json_is_integer(v)) {
		return fail(c, "task %d '%s': 'priority' is not an integer", idx, name);
	}
	if ((v = json_object_get(o, "cpus"))) {
		size_t i;
		const json_t *e;

		if (!json_is_array(v) || json_array_size(v) == 0)
			return fail(c, "task %d '%s': 'cpus' is not an array of CPU numbers", idx, name);
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) >= 1024)
				return fail(c, "task %d '%s': 'cpus' has an element that is not a CPU number from 0 to 1023",
					    idx, name);
		}
		/* the model pins to one CPU; a wider set leaves the task free */
		if (json_array_size(v) == 1)
			t->cpu = (int)json_integer_value(json_array_get(v, 0));
	}
	return 0;
}

/* {"global":{...}?, "tasks":{"NAME":{...}}} */
static int parse_rtapp(const struct ctx *c, const json_t *root, const json_t *tasks,
		       struct rtv_taskset *ts)
{
	const json_t *global = json_object_get(root, "global"), *v, *o;
	const char *key;
	size_t total = 0;
	int default_rt = 0, idx = 0, err;

	if (global && !json_is_object(global))
		return fail(c, "'global' is not an object");
	if (global && (v = json_object_get(global, "default_policy"))) {
		if (!json_is_string(v) || (default_rt = rtapp_policy(json_string_value(v))) < 0)
			return fail(c, "'global': 'default_policy' is not a scheduling policy");
	}
	/* count the threads first: "instance" copies a task */
	json_object_foreach((json_t *)tasks, key, o) {
		json_int_t inst = 1;

		if (json_is_object(o) && (v = json_object_get(o, "instance"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > RTV_TASKSET_MAX)
				return fail(c, "task %d '%s': 'instance' is not a count from 1 to %d", idx,
					    key, RTV_TASKSET_MAX);
			inst = json_integer_value(v);
		}
		total += (size_t)inst;
		if (total > RTV_TASKSET_MAX)
			return fail(c, "more than the %d tasks allowed", RTV_TASKSET_MAX);
		idx++;
	}
	ts->task = calloc(total ? total : 1, sizeof(*ts->task));
	if (!ts->task)
		return -ENOMEM;
	idx = 0;
	json_object_foreach((json_t *)tasks, key, o) {
		struct rtv_task t;
		json_int_t inst = 1;

		memset(&t, 0, sizeof(t));
		if ((err = set_name(c, ts->n, &t, key)))
			return err;
		if (!json_is_object(o))
			return fail(c, "task %d '%s': not an object", ts->n, key);
		if ((v = json_object_get(o, "instance")))
			inst = json_integer_value(v);
		if ((err = parse_rtapp_task(c, ts->n, key, o, default_rt, &t)))
			return err;
		for (json_int_t k = 0; k < inst; k++) {
			struct rtv_task *d = &ts->task[ts->n];

			*d = t;
			if (inst > 1 && snprintf(d->name, sizeof(d->name), "%s-%lld", key, (long long)k) >=
						(int)sizeof(d->name))
				return fail(c, "task %d '%s': name with its instance number longer than %zu bytes",
					    ts->n, key, sizeof(d->name) - 1);
			ts->n++;
		}
		idx++;
	}
	return 0;
}

/* Checks shared by both formats. */
static int check(const struct ctx *c, const struct rtv_taskset *ts, int ncpus)
{
	double u, per_cpu;

	if (ts->n == 0)
		return fail(c, "no tasks");
	for (int i = 0; i < ts->n; i++) {
		const struct rtv_task *t = &ts->task[i];

		if (t->deadline_ns > t->period_ns)
			return fail(c, "task %d '%s': deadline %.3f ms is above its period %.3f ms", i,
				    t->name, (double)t->deadline_ns / 1e6, (double)t->period_ns / 1e6);
		if (t->wcet_ns > t->deadline_ns)
			return fail(c, "task %d '%s': WCET %.3f ms is above its deadline %.3f ms", i,
				    t->name, (double)t->wcet_ns / 1e6, (double)t->deadline_ns / 1e6);
		if (ncpus > 0 && t->cpu >= ncpus)
			return fail(c, "task %d '%s': CPU %d does not exist (%d CPUs)", i, t->name,
				    t->cpu, ncpus);
		/* quadratic, but at most 1024^2/2 short compares */
		for (int j = 0; j < i; j++)
			if (!strcmp(ts->task[j].name, t->name))
				return fail(c, "task %d '%s': duplicate name (task %d has it too)", i,
					    t->name, j);
	}
	u = rtv_taskset_utilization(ts);
	if (ncpus > 0 && u > (double)ncpus + 1e-9)
		return fail(c, "total utilization %.3f is above the %d CPU%s", u, ncpus,
			    ncpus == 1 ? "" : "s");
	for (int i = 0; i < ts->n; i++) {
		int cpu = ts->task[i].cpu;

		if (cpu < 0)
			continue;
		per_cpu = 0;
		for (int j = 0; j < ts->n; j++)
			if (ts->task[j].cpu == cpu)
				per_cpu += (double)ts->task[j].wcet_ns / (double)ts->task[j].period_ns;
		if (per_cpu > 1 + 1e-9)
			return fail(c, "utilization %.3f of the tasks pinned to CPU %d is above 1",
				    per_cpu, cpu);
	}
	return 0;
}

int rtv_taskset_parse(const char *text, size_t len, const char *origin, int ncpus,
		      struct rtv_taskset *ts, char *err, size_t errlen)
{
	struct ctx c = { .origin = origin ? origin : "taskset", .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root, *tasks;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!ts)
		return -EINVAL;
	ts->n = 0;
	ts->task = NULL;
	if (!text)
		return fail(&c, "no input");
	/* jansson reports a NUL byte as "end of file expected near end of
	 * file": name it instead */
	const char *nul = memchr(text, '\0', len);

	if (nul) {
		int line = 1, col = 1;

		for (const char *p = text; p < nul; p++, col++)
			if (*p == '\n')
				line++, col = 0;
		return fail(&c, "line %d, column %d: NUL byte in the text", line, col);
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(&c, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	tasks = json_is_object(root) ? json_object_get(root, "tasks") : NULL;
	if (!json_is_object(root))
		ret = fail(&c, "not a taskset: the top level is not an object");
	else if (json_is_array(tasks))
		ret = parse_own(&c, tasks, ts);
	else if (json_is_object(tasks))
		ret = parse_rtapp(&c, root, tasks, ts);
	else
		ret = fail(&c, "not a taskset: no 'tasks' array (rtvnet) or object (rt-app)");
	if (!ret)
		ret = check(&c, ts, ncpus);
	json_decref(root);
	if (ret)
		rtv_taskset_release(ts);
	return ret;
}

int rtv_taskset_load(const char *path, int ncpus, struct rtv_taskset *ts, char *err,
		     size_t errlen)
{
	struct ctx c = { .origin = path, .err = err, .errlen = errlen };
	bool is_stdin = !strcmp(path, "-");
	size_t len = 0, cap = 65536;
	char *buf = NULL, *nb;
	int fd, ret;
	ssize_t r;

	ts->n = 0;
	ts->task = NULL;
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fail(&c, "cannot open: %s", strerror(-ret));
		return ret;
	}
	buf = malloc(cap);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_BYTES) {
				ret = fail(&c, "larger than %d MiB", MAX_FILE_BYTES >> 20);
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			fail(&c, "cannot read: %s", strerror(-ret));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	ret = rtv_taskset_parse(buf, len, is_stdin ? "<stdin>" : path, ncpus, ts, err, errlen);
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return ret;
}

void rtv_taskset_release(struct rtv_taskset *ts)
{
	if (!ts)
		return;
	free(ts->task);
	ts->task = NULL;
	ts->n = 0;
}

double rtv_taskset_utilization(const struct rtv_taskset *ts)
{
	double u = 0;

	if (!ts || !ts->task)
		return 0;
	for (int i = 0; i < ts->n; i++)
		if (ts->task[i].period_ns > 0)
			u += (double)ts->task[i].wcet_ns / (double)ts->task[i].period_ns;
	return u;
}
