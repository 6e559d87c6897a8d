/* The probe table; see probe.h. */
#include "probe/probe.h"

#include <string.h>

const struct rtv_probe *const rtv_probes[] = {
	&rtv_probe_netrt,
	&rtv_probe_memcached,
	&rtv_probe_sip,
	&rtv_probe_taskset,
	&rtv_probe_rfc2544,
	&rtv_probe_stream,
	&rtv_probe_iperf3,
	&rtv_probe_hogs,
	&rtv_probe_napitrace,
	&rtv_probe_stages,
	NULL,
};

const struct rtv_probe *rtv_probe_find(const char *name)
{
	for (int i = 0; rtv_probes[i]; i++)
		if (!strcmp(rtv_probes[i]->name, name))
			return rtv_probes[i];
	return NULL;
}
