/* rtnetlink through libmnl: veth pairs across namespaces, addresses, links.
 * These act on the calling thread's namespace unless an fd is given; use
 * rtv_netns_run() to act inside another one. */
#ifndef RTV_NET_RTNL_H
#define RTV_NET_RTNL_H

#include <stdint.h>

/* Create a veth pair: `name` in the namespace of ns_fd, `peer` in the
 * namespace of peer_ns_fd (either -1 for the caller's). */
int rtv_rtnl_veth_add(const char *name, int ns_fd, const char *peer, int peer_ns_fd);
/* Delete a link by name (in the caller's namespace). */
int rtv_rtnl_link_del(const char *name);
/* Set a link up (in the caller's namespace). */
int rtv_rtnl_link_up(const char *name);
/* Create a bridge (in the caller's namespace). */
int rtv_rtnl_bridge_add(const char *name);
/* Make link name a port of master (a bridge), both in the caller's namespace. */
int rtv_rtnl_link_set_master(const char *name, const char *master);
/* Add the IPv4 default route via gateway "a.b.c.d" (caller's namespace). */
int rtv_rtnl_route_add_default(const char *gw);
/* Add an IPv4 address "a.b.c.d" with prefix length. */
int rtv_rtnl_addr_add(const char *name, const char *addr, int prefixlen);

#endif
