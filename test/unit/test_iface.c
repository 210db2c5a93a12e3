/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for speaker/iface.c against the real kernel: a forked child enters a new, anonymous network
 * namespace, adds veths, addresses, a bridge, flips flags, and checks the table, the callbacks and
 * iface_for_ip. Everything vanishes with the child, on success and on failure. Needs root. */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns_main.h"

#include "../../speaker/iface.h"
#include "barelb/log.h"
#include "barelb/loop.h"

struct ev {
	char name[IF_NAMESIZE];
	enum iface_event ev;
};

struct t {
	struct loop *l;
	struct iface_table *tab;
	struct loop_timer *stop;
	struct ev evs[64];
	size_t n_evs;
	const char *want_name;
	enum iface_event want_ev;
	bool (*want_state)(const struct iface *ifc);
	bool matched;
};

static void sh(const char *cmd)
{
	int rc = system(cmd);
	if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		fail_msg("command failed: %s", cmd);
}

static void on_change(const struct iface *ifc, enum iface_event ev, void *arg)
{
	struct t *t = arg;
	if (t->n_evs < 64) {
		snprintf(t->evs[t->n_evs].name, IF_NAMESIZE, "%s", ifc->name);
		t->evs[t->n_evs++].ev = ev;
	}
	if (t->want_name && strcmp(ifc->name, t->want_name) == 0 && ev == t->want_ev &&
	    (t->want_state == NULL || t->want_state(ifc))) {
		t->matched = true;
		loop_stop(t->l);
	}
}

static void on_stop(void *arg)
{
	loop_stop(((struct t *)arg)->l);
}

/* Run the loop until the callback saw (name, ev) in a state where want_state holds. */
static void wait_for(struct t *t, const char *name, enum iface_event ev,
		     bool (*want_state)(const struct iface *))
{
	t->want_name = name;
	t->want_ev = ev;
	t->want_state = want_state;
	t->matched = false;
	loop_timer_arm(t->stop, 3000);
	assert_int_equal(loop_run(t->l), 0);
	loop_timer_cancel(t->stop);
	t->want_name = NULL;
	if (!t->matched)
		fail_msg("no %s event for %s", ev == IFACE_ADDED ? "ADDED" : ev == IFACE_CHANGED ?
			 "CHANGED" : "REMOVED", name);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->l = loop_new();
	t->tab = iface_table_new(t->l, NULL, on_change, t);
	assert_non_null(t->tab);
	t->stop = loop_timer_new(t->l, on_stop, t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	iface_table_free(t->tab);
	loop_timer_free(t->stop);
	loop_free(t->l);
	free(t);
	return 0;
}

static void v(const char *s, addr_t *a)
{
	assert_int_equal(addr_parse(s, a), 0);
}

static bool has_v4(const struct iface *ifc)
{
	for (size_t i = 0; i < ifc->n_prefixes; i++)
		if (ifc->prefixes[i].net.a.family == AF_INET)
			return true;
	return false;
}

static bool no_v4(const struct iface *ifc)
{
	return !has_v4(ifc);
}

static bool is_down(const struct iface *ifc)
{
	return !ifc->up;
}

static bool is_up(const struct iface *ifc)
{
	return ifc->up;
}

static bool has_v6_global(const struct iface *ifc)
{
	for (size_t i = 0; i < ifc->n_prefixes; i++)
		if (ifc->prefixes[i].net.a.family == AF_INET6 && ifc->prefixes[i].net.a.b[0] == 0x20)
			return true;
	return false;
}

static bool is_noarp(const struct iface *ifc)
{
	return ifc->noarp;
}

static bool is_arp(const struct iface *ifc)
{
	return !ifc->noarp;
}

static bool has_master(const struct iface *ifc)
{
	return ifc->has_master;
}

static void test_initial_dump(void **state)
{
	struct t *t = *state;
	const struct iface *lo = iface_by_name(t->tab, "lo"), *lan = iface_by_name(t->tab, "lan0");
	assert_non_null(lo);
	assert_true(lo->loopback);
	assert_true(lo->excluded);
	assert_false(iface_usable(lo));
	assert_non_null(lan);
	assert_true(lan->has_mac);
	assert_true(lan->up);
	assert_false(lan->excluded);
	assert_true(iface_usable(lan));
	assert_ptr_equal(iface_by_index(t->tab, lan->index), lan);
	const struct iface *veth = iface_by_name(t->tab, "veth9");
	assert_non_null(veth);
	assert_true(veth->excluded);
	assert_false(iface_usable(veth));
	assert_true(iface_count(t->tab) >= 5);
	for (size_t i = 1; i < iface_count(t->tab); i++)
		assert_true(iface_at(t->tab, i - 1)->index < iface_at(t->tab, i)->index);
	assert_null(iface_at(t->tab, iface_count(t->tab)));
	assert_null(iface_by_name(t->tab, "nope0"));
}

static void test_address_and_flags(void **state)
{
	struct t *t = *state;
	const struct iface *out[4];
	addr_t in_net, other, v6;
	v("192.0.2.77", &in_net);
	v("198.51.100.1", &other);
	v("2001:db8:1::99", &v6);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 0);

	sh("ip addr add 192.0.2.10/24 dev lan0");
	wait_for(t, "lan0", IFACE_CHANGED, has_v4);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 1);
	assert_string_equal(out[0]->name, "lan0");
	assert_int_equal(iface_for_ip(t->tab, &other, out, 4), 0);
	const struct iface *lan = iface_by_name(t->tab, "lan0");
	char text[ADDR_STRLEN];
	bool found = false;
	for (size_t i = 0; i < lan->n_prefixes; i++) {
		prefix_format(&lan->prefixes[i].net, text, sizeof(text));
		found |= strcmp(text, "192.0.2.0/24") == 0;
	}
	assert_true(found);

	sh("ip link set lan0 down");
	wait_for(t, "lan0", IFACE_CHANGED, is_down);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 0); /* down: not usable */
	sh("ip link set lan0 up");
	wait_for(t, "lan0", IFACE_CHANGED, is_up);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 1);

	sh("ip addr add 2001:db8:1::1/64 dev lan0 nodad");
	wait_for(t, "lan0", IFACE_CHANGED, has_v6_global);
	assert_int_equal(iface_for_ip(t->tab, &v6, out, 4), 1);

	/* the same subnet on an excluded veth: still only lan0 */
	sh("ip addr add 192.0.2.11/24 dev veth9");
	wait_for(t, "veth9", IFACE_CHANGED, has_v4);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 1);
	/* the same subnet on a second usable interface: both, and max is honoured */
	sh("ip addr add 192.0.2.12/24 dev lan0p");
	wait_for(t, "lan0p", IFACE_CHANGED, has_v4);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 2);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 1), 2);

	sh("ip addr del 192.0.2.10/24 dev lan0");
	wait_for(t, "lan0", IFACE_CHANGED, no_v4);
	assert_int_equal(iface_for_ip(t->tab, &in_net, out, 4), 1);
	assert_string_equal(out[0]->name, "lan0p");

	sh("ip link set lan0 arp off");
	wait_for(t, "lan0", IFACE_CHANGED, is_noarp);
	assert_false(iface_usable(iface_by_name(t->tab, "lan0")));
	assert_int_equal(iface_for_ip(t->tab, &v6, out, 4), 0);
	sh("ip link set lan0 arp on");
	wait_for(t, "lan0", IFACE_CHANGED, is_arp);
	assert_true(iface_usable(iface_by_name(t->tab, "lan0")));
}

static void test_appear_enslave_vanish(void **state)
{
	struct t *t = *state;
	sh("ip link add name lan1 type veth peer name lan1p && ip link set lan1 up");
	wait_for(t, "lan1", IFACE_ADDED, NULL);
	const struct iface *l1 = iface_by_name(t->tab, "lan1");
	assert_non_null(l1);
	int idx = l1->index;

	sh("ip link add name br0 type bridge");
	wait_for(t, "br0", IFACE_ADDED, NULL);
	sh("ip link set lan1 master br0");
	wait_for(t, "lan1", IFACE_CHANGED, has_master);
	assert_false(iface_usable(iface_by_name(t->tab, "lan1")));
	assert_non_null(iface_by_name(t->tab, "br0"));
	assert_false(iface_by_name(t->tab, "br0")->has_master);

	sh("ip link del lan1");
	wait_for(t, "lan1", IFACE_REMOVED, NULL);
	assert_null(iface_by_index(t->tab, idx));
	assert_null(iface_by_name(t->tab, "lan1"));
	sh("ip link del br0");
	wait_for(t, "br0", IFACE_REMOVED, NULL);
}

static void test_exclusion_list(void **state)
{
	const char *const *d = iface_default_exclude();
	static const char *const yes[] = {"lo", "veth1a2b", "docker0", "cali12ab", "flannel.1",
					  "cni0", "kube-ipvs0", "cbr0", "virbr0", "lxcbr0",
					  "tunl0", "nodelocaldns", "lxc1", "dummy0"};
	static const char *const no[] = {"eth0", "ens3", "bond0", "br0", "lo0", "wlan0", "eno1",
					 "enp0s31f6", "vlan10", "ve"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!iface_name_excluded(yes[i], d))
			fail_msg("%s should be excluded", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (iface_name_excluded(no[i], d))
			fail_msg("%s should not be excluded", no[i]);
	static const char *const custom[] = {"eth1", "ens*", NULL};
	assert_true(iface_name_excluded("eth1", custom));
	assert_false(iface_name_excluded("eth10", custom));
	assert_true(iface_name_excluded("ens3", custom));
	assert_false(iface_name_excluded("veth0", custom));
	assert_false(iface_name_excluded("eth1", NULL));
}

/* A custom exclude list is applied to the table. */
static void test_custom_exclude(void **state)
{
	static const char *const ex[] = {"lan0", NULL};
	struct loop *l = loop_new();
	struct iface_table *tab = iface_table_new(l, ex, NULL, NULL);
	assert_non_null(tab);
	assert_true(iface_by_name(tab, "lan0")->excluded);
	assert_false(iface_by_name(tab, "veth9")->excluded);
	iface_table_free(tab);
	loop_free(l);
}

static int run_in_namespace(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..1\nok 1 # SKIP unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	if (system("ip link set lo up && ip link add name lan0 type veth peer name lan0p && "
		   "ip link add name veth9 type veth peer name veth9p && "
		   "ip link set lan0 up && ip link set lan0p up && ip link set veth9 up") != 0) {
		printf("1..1\nnot ok 1 - creating veths in the test namespace\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appear_enslave_vanish, setup, teardown),
		cmocka_unit_test(test_exclusion_list),
		cmocka_unit_test(test_custom_exclude),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
	return netns_main(run_in_namespace);
}
