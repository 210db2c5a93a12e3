/* SPDX-License-Identifier: Apache-2.0 */
/* daemon: common command line of the two daemons, config check/print, config reload on change. */
#include "barelb/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "barelb/config.h"
#include "barelb/loop.h"

enum {
	OPT_CONFIG = 256, OPT_SOURCE, OPT_KUBECONFIG, OPT_LBCLASS, OPT_METRICS, OPT_CONTROL,
	OPT_LOGLEVEL, OPT_CHECK, OPT_PRINT, OPT_VERSION, OPT_HELP, OPT_NODE, OPT_ONCE, OPT_LEADER,
	OPT_NAMESPACE, OPT_LEASE_DURATION, OPT_LEASE_RENEW, OPT_WITHDRAW_HOLD, OPT_NOTREADY_GRACE,
	OPT_TERMINATING,
};

static void usage(const struct daemon_opts *o, FILE *f)
{
	fprintf(f,
		"usage: %s%s [--config FILE] [--source kube|dir:PATH] [--kubeconfig FILE]\n"
		"         [--lb-class NAME] [--metrics ADDR:PORT] [--control PATH]\n"
		"         [--log-level debug|info|warn|error] [--namespace NS]%s\n"
		"       %s --check-config FILE | --print-config FILE | --version | --help\n"
		"\n"
		"  --config FILE       config file, CRD or legacy ConfigMap form (default %s)\n"
		"  --source SRC        cluster state: kube (the API server) or dir:PATH (default kube)\n"
		"  --check-config FILE validate FILE, print every error as FILE:LINE:COL: message,\n"
		"                      exit 0 when valid, 1 otherwise\n"
		"  --print-config FILE print FILE in canonical CRD form (defaults filled in)\n"
		"  --namespace NS      namespace of the Leases (default $POD_NAMESPACE, else barelb-system)\n"
		"  --metrics ADDR:PORT /metrics, /healthz, /readyz over HTTP (default :7472; off)\n"
		"  --control PATH      control socket for barelbctl (default /run/barelb/%s.sock; off)\n"
		"  --log-level LEVEL   debug, info, warn or error (default info)\n",
		o->prog, o->speaker ? " [--node NAME]" : "", o->speaker ? "" : " [--leader-elect]", o->prog,
		DAEMON_DEFAULT_CONFIG, o->speaker ? "speaker" : "controller");
	if (o->speaker)
		fprintf(f, "  --node NAME         this node's name (default $NODE_NAME)\n"
			   "  --lease-duration S  a speaker is dead S seconds after its last Lease renewal\n"
			   "                      (default %u)\n"
			   "  --lease-renew MS    renew this speaker's Lease every MS milliseconds (default %u)\n"
			   "  --withdraw-hold MS  keep announcing this long after the last endpoint went, so a\n"
			   "                      flapping endpoint does not flap announcements (default %u; 0 off)\n"
			   "  --node-notready-grace S  a Node whose Ready condition is False/Unknown this long\n"
			   "                      stops announcing (default %u; 0 = at once)\n"
			   "  --terminating-endpoints keep|drop  count serving-but-terminating endpoints while\n"
			   "                      no ready one exists (default keep)\n",
			DAEMON_LEASE_DURATION_S, DAEMON_LEASE_RENEW_MS, DAEMON_WITHDRAW_HOLD_MS,
			DAEMON_NOTREADY_GRACE_S);
	else
		fprintf(f, "  --leader-elect      run only while holding the barelb-controller Lease\n");
}

int daemon_parse_args(int argc, char **argv, struct daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "lb-class", required_argument, NULL, OPT_LBCLASS },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "print-config", required_argument, NULL, OPT_PRINT },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "exit-after-load", no_argument, NULL, OPT_ONCE },
		{ "leader-elect", no_argument, NULL, OPT_LEADER },
		{ "namespace", required_argument, NULL, OPT_NAMESPACE },
		{ "lease-duration", required_argument, NULL, OPT_LEASE_DURATION },
		{ "lease-renew", required_argument, NULL, OPT_LEASE_RENEW },
		{ "withdraw-hold", required_argument, NULL, OPT_WITHDRAW_HOLD },
		{ "node-notready-grace", required_argument, NULL, OPT_NOTREADY_GRACE },
		{ "terminating-endpoints", required_argument, NULL, OPT_TERMINATING },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config = DAEMON_DEFAULT_CONFIG;
	o->lease_duration_s = DAEMON_LEASE_DURATION_S;
	o->lease_renew_ms = DAEMON_LEASE_RENEW_MS;
	o->withdraw_hold_ms = DAEMON_WITHDRAW_HOLD_MS;
	o->notready_grace_s = DAEMON_NOTREADY_GRACE_S;
	o->source = "kube";
	o->level = LOG_INFO;
	o->metrics = ":7472";
	if (o->speaker)
		o->node = getenv("NODE_NAME");
	o->namespace = getenv("POD_NAMESPACE");
	if (!o->namespace || !*o->namespace)
		o->namespace = "barelb-system";
	o->identity = getenv("POD_NAME");
	if (!o->identity || !*o->identity) {
		if (gethostname(o->identity_buf, sizeof o->identity_buf - 1) == 0)
			o->identity = o->identity_buf;
		else
			o->identity = o->prog;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG: o->config = optarg; break;
		case OPT_SOURCE: o->source = optarg; break;
		case OPT_KUBECONFIG: o->kubeconfig = optarg; break;
		case OPT_LBCLASS: o->lb_class = optarg; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_CONTROL: o->control = optarg; break;
		case OPT_ONCE: o->run_once = true; break;
		case OPT_NAMESPACE: o->namespace = optarg; break;
		case OPT_TERMINATING:
			if (!o->speaker)
				goto bad;
			if (strcmp(optarg, "keep") == 0)
				o->terminating_drop = false;
			else if (strcmp(optarg, "drop") == 0)
				o->terminating_drop = true;
			else {
				fprintf(stderr, "%s: --terminating-endpoints: expected keep or drop, got \"%s\"\n",
					o->prog, optarg);
				return 2;
			}
			break;
		case OPT_LEASE_DURATION:
		case OPT_LEASE_RENEW:
		case OPT_WITHDRAW_HOLD:
		case OPT_NOTREADY_GRACE: {
			const char *name = c == OPT_LEASE_RENEW ? "lease-renew" :
					   c == OPT_LEASE_DURATION ? "lease-duration" :
					   c == OPT_WITHDRAW_HOLD ? "withdraw-hold" : "node-notready-grace";
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!o->speaker)
				goto bad;
			/* 0 is allowed only where it means "off". */
			if (*end || end == optarg || v > 3600000 ||
			    (v == 0 && (c == OPT_LEASE_RENEW || c == OPT_LEASE_DURATION))) {
				fprintf(stderr, "%s: --%s: expected a %s whole number, got \"%s\"\n", o->prog,
					name, c == OPT_WITHDRAW_HOLD || c == OPT_NOTREADY_GRACE ?
					"non-negative" : "positive", optarg);
				return 2;
			}
			if (c == OPT_LEASE_RENEW)
				o->lease_renew_ms = (uint32_t)v;
			else if (c == OPT_LEASE_DURATION)
				o->lease_duration_s = (uint32_t)v;
			else if (c == OPT_WITHDRAW_HOLD)
				o->withdraw_hold_ms = (uint32_t)v;
			else
				o->notready_grace_s = (uint32_t)v;
			break;
		}
		case OPT_LEADER:
			if (o->speaker)
				goto bad;
			o->leader_elect = true;
			break;
		case OPT_NODE:
			if (!o->speaker)
				goto bad;
			o->node = optarg;
			break;
		case OPT_LOGLEVEL:
			if (log_parse_level(optarg, &o->level) < 0) {
				fprintf(stderr, "%s: --log-level: expected debug, info, warn or error, got \"%s\"\n",
					o->prog, optarg);
				return 2;
			}
			break;
		case OPT_CHECK: return daemon_check_config(optarg, false);
		case OPT_PRINT: return daemon_check_config(optarg, true);
		case OPT_VERSION: printf("%s %s\n", o->prog, BARELB_VERSION); return 0;
		case 'h':
		case OPT_HELP: usage(o, stdout); return 0;
		default:
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", o->prog, argv[optind]);
		usage(o, stderr);
		return 2;
	}
	if (strcmp(o->source, "kube") != 0 && strncmp(o->source, "dir:", 4) != 0) {
		fprintf(stderr, "%s: --source: expected kube or dir:PATH, got \"%s\"\n", o->prog, o->source);
		return 2;
	}
	if (o->speaker && (!o->node || !*o->node)) {
		fprintf(stderr, "%s: no node name: give --node NAME or set NODE_NAME\n", o->prog);
		return 2;
	}
	log_set_level(o->level);
	log_set_component(o->speaker ? "speaker" : "controller");
	return -1;
bad:
	fprintf(stderr, "%s: unknown or incomplete option \"%s\"\n", o->prog,
		optind > 0 && optind <= argc ? argv[optind - 1] : "?");
	usage(o, stderr);
	return 2;
}

int daemon_check_config(const char *path, bool print)
{
	struct cfg_diags d = { 0 };
	struct config *cfg = NULL;
	int rc = config_load_file(path, &cfg, &d);

	cfg_diags_print(&d, stderr);
	if (rc == 0 && print)
		config_print(cfg, stdout);
	else if (rc == 0)
		fprintf(stderr, "%s: ok: %zu pools, %zu L2 advertisements, %zu BGP advertisements, "
			"%zu BGP peers, %zu BFD profiles, %zu community aliases\n",
			path, cfg->n_pools, cfg->n_l2advs, cfg->n_bgpadvs, cfg->n_peers, cfg->n_bfds,
			cfg->n_aliases);
	else
		fprintf(stderr, "%s: %zu error%s\n", path, d.n_errors, d.n_errors == 1 ? "" : "s");
	config_free(cfg);
	cfg_diags_free(&d);
	return rc == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ config holder */

struct config_holder {
	struct loop *l;
	char *path;
	char *dir, *base;
	struct config *cur;
	bool stale;
	uint64_t reloads, failures;
	int ino_fd;
	struct loop_fd *ino_watch;
	struct loop_signal *hup;
	struct loop_timer *debounce;
	config_changed_cb cb;
	void *arg;
	char *last_text; /* canonical print of cur: a reload that prints the same changes nothing */
};

static char *print_to_string(const struct config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	config_print(c, f);
	fclose(f);
	return s;
}

static void log_diags(const struct cfg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cfg_diag *g = &d->v[i];
		enum log_level lvl = g->level == CFG_ERROR ? LOG_ERROR :
				     g->level == CFG_WARNING ? LOG_WARN : LOG_INFO;
		log_msg(lvl, "config=%s line=%d col=%d msg=\"%s\"", g->file, g->line, g->col, g->msg);
	}
}

static int holder_try_load(struct config_holder *h)
{
	struct cfg_diags d = { 0 };
	struct config *cfg = NULL;
	char *text;

	if (config_load_file(h->path, &cfg, &d) < 0) {
		log_diags(&d);
		cfg_diags_free(&d);
		return -1;
	}
	log_diags(&d);
	cfg_diags_free(&d);
	text = print_to_string(cfg);
	if (h->cur && text && h->last_text && strcmp(text, h->last_text) == 0) {
		free(text);
		config_free(cfg);
		return 0;
	}
	/* The old config is freed only after the daemon has switched to the new one: modules may
	 * borrow parts of the config in force until they are handed the next. */
	struct config *old = h->cur;
	h->cur = cfg;
	free(h->last_text);
	h->last_text = text;
	h->reloads++;
	log_info("msg=\"config loaded\" config=%s pools=%zu peers=%zu", h->path, cfg->n_pools,
		 cfg->n_peers);
	if (h->cb)
		h->cb(h->cur, h->arg);
	config_free(old);
	return 0;
}

int config_holder_reload(struct config_holder *h)
{
	if (holder_try_load(h) < 0) {
		h->failures++;
		h->stale = true;
		log_error("msg=\"new config rejected; the last good config stays in force\" config=%s",
			  h->path);
		return -1;
	}
	h->stale = false;
	return 0;
}

int config_holder_load(struct config_holder *h)
{
	return holder_try_load(h);
}

static void on_debounce(void *arg)
{
	config_holder_reload(arg);
}

static void on_inotify(int fd, unsigned events, void *arg)
{
	struct config_holder *h = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false, atomic = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			/* The file itself, or the "..data" symlink a ConfigMap volume swaps. */
			if (ev->len && (strcmp(ev->name, h->base) == 0 || strcmp(ev->name, "..data") == 0)) {
				hit = true;
				/* A rename (ConfigMap swap, editors' save-by-rename) is complete at once. */
				if (ev->mask & IN_MOVED_TO)
					atomic = true;
			}
			p += sizeof *ev + ev->len;
		}
	}
	/* A file written in place may come in several writes: wait a moment for the last one. */
	if (hit)
		loop_timer_arm(h->debounce, atomic ? 0 : 50);
}

static void on_hup(int signo, void *arg)
{
	log_info("msg=\"SIGHUP: reloading config\"");
	config_holder_reload(arg);
}

struct config_holder *config_holder_new(struct loop *l, const char *path, config_changed_cb cb,
					void *arg)
{
	struct config_holder *h = calloc(1, sizeof *h);
	char *slash;

	if (!h)
		return NULL;
	h->l = l;
	h->cb = cb;
	h->arg = arg;
	h->ino_fd = -1;
	h->path = strdup(path);
	slash = h->path ? strrchr(h->path, '/') : NULL;
	h->dir = slash ? strndup(h->path, (size_t)(slash - h->path) + (slash == h->path)) : strdup(".");
	h->base = strdup(slash ? slash + 1 : path);
	if (!h->path || !h->dir || !h->base)
		goto fail;
	h->debounce = loop_timer_new(l, on_debounce, h);
	h->hup = loop_signal_add(l, SIGHUP, on_hup, h);
	h->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (h->ino_fd >= 0 &&
	    inotify_add_watch(h->ino_fd, h->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM) >= 0)
		h->ino_watch = loop_fd_add(l, h->ino_fd, LOOP_READ, on_inotify, h);
	else
		log_warn("msg=\"cannot watch config directory; SIGHUP still reloads\" dir=%s err=\"%s\"",
			 h->dir, strerror(errno));
	return h;
fail:
	config_holder_free(h);
	return NULL;
}

void config_holder_free(struct config_holder *h)
{
	if (!h)
		return;
	loop_fd_del(h->ino_watch);
	if (h->ino_fd >= 0)
		close(h->ino_fd);
	loop_signal_del(h->hup);
	loop_timer_free(h->debounce);
	config_free(h->cur);
	free(h->last_text);
	free(h->path);
	free(h->dir);
	free(h->base);
	free(h);
}

const struct config *config_holder_get(const struct config_holder *h) { return h->cur; }
bool config_holder_stale(const struct config_holder *h) { return h->stale; }
uint64_t config_holder_reloads(const struct config_holder *h) { return h->reloads; }
uint64_t config_holder_failures(const struct config_holder *h) { return h->failures; }
