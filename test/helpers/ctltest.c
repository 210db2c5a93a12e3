/* SPDX-License-Identifier: Apache-2.0 */
/* ctltest: a stand-in daemon for test/cli/test_barelbctl.sh. It opens a control socket (and
 * optionally the metrics server) and answers status, services, announcements, peers and pools with
 * fixed sample data in the daemons' JSON shapes, so that barelbctl's tables and -o json are
 * checked without a cluster. Runs until SIGTERM/SIGINT.
 *   ctltest --control PATH [--as speaker|controller] [--empty] [--metrics SPEC]
 *           [--ready-file FILE]   (/readyz is 200 while FILE exists) */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barelb/control.h"
#include "barelb/jsonw.h"
#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/metrics.h"

struct ctltest {
	struct loop *l;
	bool speaker;
	bool empty;
	const char *ready_file;
};

static int cmd_status(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	struct ctltest *t = arg;

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "daemon", t->speaker ? "barelb-speaker" : "barelb-controller");
	jsonw_kv_str(w, "version", "0.1.0");
	if (t->speaker)
		jsonw_kv_str(w, "node", "node-a");
	else
		jsonw_kv_null(w, "node");
	jsonw_kv_int(w, "pid", 4242);
	jsonw_kv_double(w, "uptime_s", 3723.5);
	jsonw_key(w, "config");
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "path", "/etc/barelb/config.yaml");
	jsonw_kv_bool(w, "loaded", true);
	jsonw_kv_bool(w, "stale", !t->speaker);
	jsonw_kv_uint(w, "reloads", 3);
	jsonw_kv_uint(w, "rejected", t->speaker ? 0 : 1);
	jsonw_obj_end(w);
	jsonw_kv_str(w, "source", "kube");
	jsonw_kv_bool(w, "synced", t->speaker);
	if (!t->speaker)
		jsonw_kv_bool(w, "leader", true);
	jsonw_kv_bool(w, "ready", t->speaker);
	if (t->speaker)
		jsonw_kv_null(w, "not_ready_reason");
	else
		jsonw_kv_str(w, "not_ready_reason", "waiting for the first sync");
	jsonw_obj_end(w);
	return 0;
}

static void strs(struct jsonw *w, const char *key, const char *const *v, size_t n)
{
	jsonw_key(w, key);
	jsonw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		jsonw_str(w, v[i]);
	jsonw_arr_end(w);
}

static void service(struct jsonw *w, const char *svc, const char *const *ips, size_t n_ips,
		    const char *pool, const char *mode, const char *owner,
		    const char *const *nodes, size_t n_nodes, const char *reason)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "service", svc);
	strs(w, "ips", ips, n_ips);
	jsonw_kv_str(w, "pool", pool);
	jsonw_kv_str(w, "mode", mode);
	jsonw_kv_str(w, "owner", owner);
	strs(w, "nodes", nodes, n_nodes);
	jsonw_kv_str(w, "reason", reason);
	jsonw_obj_end(w);
}

static int cmd_services(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	struct ctltest *t = arg;
	static const char *const ip1[] = { "192.0.2.10" };
	static const char *const ip2[] = { "192.0.2.11", "2001:db8::11" };
	static const char *const ip3[] = { "203.0.113.1" };
	static const char *const bgpnodes[] = { "node-a", "node-b", "node-c" };

	jsonw_obj_begin(w);
	jsonw_key(w, "services");
	jsonw_arr_begin(w);
	if (!t->empty && t->speaker) {
		service(w, "default/web", ip1, 1, "lan", "layer2", "node-a", NULL, 0,
			"owner: first of 2 eligible nodes");
		service(w, "shop/caf\xc3\xa9", ip2, 2, "lan", "layer2", "node-b", NULL, 0,
			"not the owner");
		service(w, "team-a/api", ip3, 1, "team-a", "bgp", NULL, bgpnodes, 3,
			"announced by 3 nodes");
		service(w, "default/nobody", ip1, 1, "lan", "layer2", NULL, NULL, 0,
			"no eligible node: no ready endpoint (externalTrafficPolicy Local)");
	} else if (!t->empty) {
		service(w, "default/web", ip1, 1, "lan", NULL, NULL, NULL, 0, "allocated");
		service(w, "default/greedy", NULL, 0, NULL, NULL, NULL, NULL, 0,
			"NoFreeIP: pool lan has no free IPv4 address");
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_announcements(void *arg, const char *args, struct jsonw *w, char *err,
			     size_t len)
{
	struct ctltest *t = arg;

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "node", "node-a");
	jsonw_key(w, "announcements");
	jsonw_arr_begin(w);
	if (!t->empty) {
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "ip", "192.0.2.10");
		jsonw_kv_str(w, "service", "default/web");
		jsonw_kv_str(w, "interface", "eth0");
		jsonw_kv_str(w, "mode", "layer2");
		jsonw_kv_double(w, "age_s", 312.7);
		jsonw_obj_end(w);
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "ip", "2001:db8:1::ffff:10");
		jsonw_kv_str(w, "service", "default/web6");
		jsonw_kv_str(w, "interface", "bond0.100");
		jsonw_kv_str(w, "mode", "layer2");
		jsonw_kv_uint(w, "age_s", 190000);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_peers(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	struct ctltest *t = arg;

	jsonw_obj_begin(w);
	jsonw_key(w, "peers");
	jsonw_arr_begin(w);
	if (!t->empty) {
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "name", "tor1");
		jsonw_kv_str(w, "address", "192.0.2.254");
		jsonw_kv_uint(w, "port", 179);
		jsonw_kv_uint(w, "peer_asn", 64513);
		jsonw_kv_uint(w, "my_asn", 64512);
		jsonw_kv_str(w, "state", "Established");
		jsonw_kv_uint(w, "uptime_s", 7265);
		jsonw_kv_uint(w, "prefixes_sent", 12);
		jsonw_kv_uint(w, "prefixes_received", 0);
		jsonw_kv_null(w, "last_error");
		jsonw_kv_null(w, "last_notification");
		jsonw_obj_end(w);
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "name", "tor2");
		jsonw_kv_str(w, "address", "2001:db8::fe");
		jsonw_kv_uint(w, "port", 179);
		jsonw_kv_uint(w, "peer_asn", 4200000001u);
		jsonw_kv_uint(w, "my_asn", 64512);
		jsonw_kv_str(w, "state", "Active");
		jsonw_kv_null(w, "uptime_s");
		jsonw_kv_uint(w, "prefixes_sent", 0);
		jsonw_kv_uint(w, "prefixes_received", 0);
		jsonw_kv_str(w, "last_error", "connect: Connection refused\x1b[31m");
		jsonw_key(w, "last_notification");
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "direction", "received");
		jsonw_kv_uint(w, "code", 6);
		jsonw_kv_uint(w, "subcode", 2);
		jsonw_kv_str(w, "text", "Cease: administrative shutdown");
		jsonw_kv_uint(w, "age_s", 65);
		jsonw_obj_end(w);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static void pool(struct jsonw *w, const char *name, const char *family, const char *size,
		 uint64_t used, uint64_t held, const char *free_)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "pool", name);
	jsonw_kv_str(w, "family", family);
	jsonw_key(w, "size");
	jsonw_num_text(w, size);
	jsonw_kv_uint(w, "used", used);
	jsonw_kv_uint(w, "held", held);
	jsonw_key(w, "free");
	jsonw_num_text(w, free_);
	jsonw_obj_end(w);
}

static int cmd_pools(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	struct ctltest *t = arg;

	jsonw_obj_begin(w);
	jsonw_key(w, "pools");
	jsonw_arr_begin(w);
	if (!t->empty) {
		pool(w, "lan", "ipv4", "27", 3, 1, "23");
		pool(w, "lan", "ipv6", "256", 1, 0, "255");
		pool(w, "team-a", "ipv4", "8", 8, 0, "0");
		pool(w, "v6-huge", "ipv6", "18446744073709551616", 2, 0, "18446744073709551614");
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_fail(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	snprintf(err, len, "no such peer \"%s\"", args);
	return -1;
}

static int cmd_echo(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "args", args);
	jsonw_obj_end(w);
	return 0;
}

static bool ready(void *arg, char *why, size_t len)
{
	struct ctltest *t = arg;

	if (!t->ready_file || access(t->ready_file, F_OK) == 0)
		return true;
	snprintf(why, len, "waiting for the first sync");
	return false;
}

static void on_signal(int signo, void *arg)
{
	loop_stop(arg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "as", required_argument, NULL, 'a' },
		{ "empty", no_argument, NULL, 'e' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctltest t = { .speaker = true };
	const char *path = NULL, *mspec = "off";
	struct control *c = NULL;
	struct metrics *m = NULL;
	struct metrics_server *ms = NULL;
	struct loop_signal *s1, *s2;
	int o, rc = 1;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'a': t.speaker = strcmp(optarg, "controller") != 0; break;
		case 'e': t.empty = true; break;
		case 'm': mspec = optarg; break;
		case 'r': t.ready_file = optarg; break;
		default:
			fprintf(stderr, "usage: ctltest --control PATH [--as speaker|controller] "
					"[--empty] [--metrics SPEC] [--ready-file FILE]\n");
			return 2;
		}
	}
	t.l = loop_new();
	m = metrics_new();
	if (!t.l || !m || control_start(t.l, path, &c) < 0 || !c ||
	    metrics_server_start(t.l, m, mspec, ready, &t, &ms) < 0)
		goto out;
	metrics_set(metrics_gauge(m, "barelb_k8s_client_config_loaded_bool",
				  "1 if the config was loaded", NULL), NULL, 1);
	control_register(c, "status", "the daemon: version, config, sync, uptime", cmd_status, &t);
	control_register(c, "services", "services with IPs", cmd_services, &t);
	if (t.speaker) {
		control_register(c, "announcements", "what this node announces",
				 cmd_announcements, &t);
		control_register(c, "peers", "BGP sessions", cmd_peers, &t);
	} else {
		control_register(c, "pools", "address pools by family", cmd_pools, &t);
	}
	control_register(c, "fail", "always fails", cmd_fail, &t);
	control_register(c, "echo", "the arguments back", cmd_echo, &t);
	s1 = loop_signal_add(t.l, SIGTERM, on_signal, t.l);
	s2 = loop_signal_add(t.l, SIGINT, on_signal, t.l);
	rc = loop_run(t.l) == 0 ? 0 : 1;
	loop_signal_del(s1);
	loop_signal_del(s2);
out:
	control_free(c);
	metrics_server_free(ms);
	metrics_free(m);
	loop_free(t.l);
	return rc;
}
