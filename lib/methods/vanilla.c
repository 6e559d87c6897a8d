/* vanilla: the kernel as it is, interrupts and softirq; nothing changed. Its
 * expected effect is the phenomenon itself: co-located bulk traffic
 * multiplies the RT service's p99 (the outsourcing paper, section 2). On the
 * host topology with the stream sources on the peer CPUs the factor is what
 * the host does, not what a floating source did on the RT CPU: about
 * 3.5-4.5x idle's by hand (10x and more on the direct topology with floating
 * sources), hence 3. */
#include "methods/method.h"

const struct rtv_method rtv_method_vanilla = {
	.name = "vanilla",
	.summary = "the kernel as it is: nothing changed",
	.in_default = true,
	.expect = {
		{ "phenomenon", "p99_us", "idle", RTV_CMP_GE, 3 },
	},
};
