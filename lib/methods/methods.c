#include "methods/method.h"

#include <stdio.h>
#include <string.h>

#include "host/sched.h"

const struct rtv_method *const rtv_methods[] = {
	&rtv_method_vanilla,
	&rtv_method_prio,
	&rtv_method_dedicated,
	NULL,
};

const struct rtv_method *rtv_method_find(const char *name)
{
	for (int i = 0; rtv_methods[i]; i++)
		if (!strcmp(rtv_methods[i]->name, name))
			return rtv_methods[i];
	return NULL;
}

int rtv_method_dev_kthreads(const char *dev, pid_t *tids, int max)
{
	char pat[64];
	int n;

	snprintf(pat, sizeof(pat), "irq/*-%s*", dev);
	n = rtv_kthreads_find(pat, tids, max);
	if (n < 0)
		return n;
	snprintf(pat, sizeof(pat), "napi/%s-*", dev);
	int m = rtv_kthreads_find(pat, tids + n, max - n);
	return m < 0 ? m : n + m;
}
