#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes manifests (conf/deploy/) checked against what the code really does: every file
# loads (barelb's own YAML reader, test/helpers/yamlq); kustomization lists them all; every flag
# exists in the binaries' --help and the daemons accept the args as written; the RBAC rules are
# exactly the API calls the code makes (paths and verbs grepped from lib/, kinds and writes from
# the daemons), no more; the speaker has exactly NET_RAW + NET_ADMIN; probes, downward API,
# volumes; the ConfigMap's config is conf/config.yaml and passes check-config; the Dockerfile's
# runtime packages exist and cover the binaries' shared libraries.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin}
HELP=${BARELB_HELPERS:-$BARELB_TOP/build/asan/helpers}
TOP=$BARELB_TOP
D=$TOP/conf/deploy
NS=barelb-system
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

same() { # description, expected-file, got-file
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; diff -u "$2" "$3" | sed 's/^/# /'; fi
}

# ---------- every manifest loads; one table FILE DOC PATH VALUE ----------
: >"$tmp/all"
for f in "$D"/*.yaml; do
	b=$(basename "$f")
	if "$HELP/yamlq" "$f" >"$tmp/one" 2>"$tmp/err"; then
		ok "$b loads"
		awk -v f="$b" '{ print f "\t" $0 }' "$tmp/one" >>"$tmp/all"
	else
		not_ok "$b loads: $(cat "$tmp/err")"
	fi
done
# q FILE DOC PATH: the value at PATH ("" if none)
q() { awk -F'\t' -v f="$1" -v d="$2" -v p="$3" '$1==f && $2==d && $3==p { print $4; exit }' "$tmp/all"; }
# doc KIND NAME: "FILE DOC" of the object
doc() {
	awk -F'\t' -v k="$1" '$3==".kind" && $4==k { print $1 "\t" $2 }' "$tmp/all" |
		while IFS=$'\t' read -r f d; do
			[ "$(q "$f" "$d" .metadata.name)" = "$2" ] && echo "$f $d"
		done
}
# list FILE DOC PREFIX: values of PREFIX[0], PREFIX[1], ...
list() {
	awk -F'\t' -v f="$1" -v d="$2" -v p="$3" \
		'$1==f && $2==d && index($3, p "[") == 1 && substr($3, length(p) + 1) ~ /^\[[0-9]+\]$/ \
		 { print $4 }' "$tmp/all"
}

# ---------- objects ----------
bad=""
while IFS=$'\t' read -r f d; do
	[ "$f" = kustomization.yaml ] && continue
	kind=$(q "$f" "$d" .kind)
	name=$(q "$f" "$d" .metadata.name)
	ns=$(q "$f" "$d" .metadata.namespace)
	[ -n "$(q "$f" "$d" .apiVersion)" ] && [ -n "$name" ] || bad="$bad $f#$d(no apiVersion/name)"
	case $kind in
	Namespace | ClusterRole | ClusterRoleBinding) [ -z "$ns" ] || bad="$bad $f#$d(cluster-scoped with a namespace)" ;;
	*) [ "$ns" = "$NS" ] || bad="$bad $f#$d($kind $name not in $NS)" ;;
	esac
done < <(awk -F'\t' '$3==".kind" { print $1 "\t" $2 }' "$tmp/all")
check "every object has apiVersion, kind and name; namespaced ones live in $NS${bad:+:$bad}" test -z "$bad"
check "the Namespace $NS exists" test -n "$(doc Namespace $NS)"

ls "$D"/*.yaml | xargs -n1 basename | grep -vx kustomization.yaml | sort >"$tmp/files"
list kustomization.yaml 0 .resources | sort >"$tmp/kres"
same "kustomization.yaml lists every manifest and nothing else" "$tmp/files" "$tmp/kres"
check "kustomization.yaml sets the namespace" test "$(q kustomization.yaml 0 .namespace)" = "$NS"

# ---------- workloads ----------
read -r CF CD <<<"$(doc Deployment barelb-controller)"
read -r SF SD <<<"$(doc DaemonSet barelb-speaker)"
check "a Deployment barelb-controller and a DaemonSet barelb-speaker exist" \
	test -n "${CF:-}" -a -n "${SF:-}"
C=.spec.template.spec
K=$C.containers[0]

# the config as the ConfigMap holds it, for the daemons' dry runs below
"$HELP/yamlq" -r "$D/configmap.yaml" 0 '.data["config.yaml"]' >"$tmp/config.yaml"
mkdir -p "$tmp/state"

for w in controller speaker; do
	if [ $w = controller ]; then f=$CF d=$CD; else f=$SF d=$SD; fi
	prog=$(basename "$(q "$f" "$d" "$K.command[0]")")
	check "$w: runs barelb-$w" test "$prog" = "barelb-$w"
	"$BIN/$prog" --help >"$tmp/help.$w" 2>&1
	list "$f" "$d" "$K.args" >"$tmp/args.$w"
	missing=""
	while read -r a; do
		case $a in --*) grep -q -- "${a%%=*}\b" "$tmp/help.$w" || missing="$missing ${a%%=*}" ;; esac
	done <"$tmp/args.$w"
	check "$w: every flag in the manifest is in $prog --help${missing:+ (missing:$missing)}" \
		test -z "$missing" -a -s "$tmp/args.$w"
	# The daemon accepts the arguments as written (config path pointed at the ConfigMap's text).
	mapfile -t args <"$tmp/args.$w"
	for i in "${!args[@]}"; do
		case ${args[$i]} in --config=*) args[$i]=--config=$tmp/config.yaml ;; esac
	done
	NODE_NAME=node-1 POD_NAME=p POD_NAMESPACE=$NS "$BIN/$prog" "${args[@]}" \
		--source "dir:$tmp/state" --exit-after-load >"$tmp/run.$w" 2>&1
	check "$w: $prog accepts the manifest's arguments and loads the ConfigMap's config" test $? -eq 0
	cfgarg=$(grep -- '^--config=' "$tmp/args.$w" | head -1)
	cfgdir=$(dirname "${cfgarg#--config=}")
	vol=$(awk -F'\t' -v f="$f" -v d="$d" -v p="$K.volumeMounts[" -v m="$cfgdir" \
		'$1==f && $2==d && index($3,p)==1 && $3 ~ /\.mountPath$/ && $4==m { sub(/\.mountPath$/,".name",$3); print $3 }' "$tmp/all")
	vname=$(q "$f" "$d" "$vol")
	cm=$(awk -F'\t' -v f="$f" -v d="$d" -v v="$vname" -v p="$C.volumes[" '
		$1==f && $2==d && index($3,p)==1 && $3 ~ /\]\.name$/ && $4==v { sub(/\.name$/,"",$3); want=$3 }
		$1==f && $2==d && want != "" && $3==want ".configMap.name" { print $4 }' "$tmp/all")
	check "$w: --config's directory $cfgdir is the ConfigMap barelb-config" test "$cm" = barelb-config
	ctlarg=$(grep -- '^--control=' "$tmp/args.$w" | head -1)
	ctldir=$(dirname "${ctlarg#--control=}")
	check "$w: the control socket ($ctlarg) is on a writable mount" \
		grep -qP "^\Q$f\E\t$d\t\Q$K\E\.volumeMounts\[\d+\]\.mountPath\t\Q$ctldir\E$" "$tmp/all"
	check "$w: the control socket is where barelbctl looks by default" \
		test "${ctlarg#--control=}" = "/run/barelb/$w.sock"
	mport=$(grep -- '^--metrics=' "$tmp/args.$w" | sed 's/.*://')
	pname=$(q "$f" "$d" "$K.ports[0].name")
	check "$w: container port '$pname' is the --metrics port ($mport)" \
		test "$(q "$f" "$d" "$K.ports[0].containerPort")" = "$mport" -a -n "$mport"
	check "$w: liveness probe GET /healthz on the metrics port" \
		test "$(q "$f" "$d" "$K.livenessProbe.httpGet.path"):$(q "$f" "$d" "$K.livenessProbe.httpGet.port")" = "/healthz:$pname"
	check "$w: readiness probe GET /readyz on the metrics port" \
		test "$(q "$f" "$d" "$K.readinessProbe.httpGet.path"):$(q "$f" "$d" "$K.readinessProbe.httpGet.port")" = "/readyz:$pname"
	for r in requests.cpu requests.memory limits.cpu limits.memory; do
		check "$w: resources.$r is set" test -n "$(q "$f" "$d" "$K.resources.$r")"
	done
	check "$w: allowPrivilegeEscalation false" \
		test "$(q "$f" "$d" "$K.securityContext.allowPrivilegeEscalation")" = false
	check "$w: readOnlyRootFilesystem true" \
		test "$(q "$f" "$d" "$K.securityContext.readOnlyRootFilesystem")" = true
	check "$w: capabilities drop ALL" \
		test "$(list "$f" "$d" "$K.securityContext.capabilities.drop")" = ALL
	sa=$(q "$f" "$d" "$C.serviceAccountName")
	check "$w: its ServiceAccount $sa exists" test -n "$(doc ServiceAccount "$sa")"
	env=$(awk -F'\t' -v f="$f" -v d="$d" -v p="$K.env[" '
		$1==f && $2==d && index($3,p)==1 && $3 ~ /\]\.name$/ { i=$3; sub(/\.name$/,"",i); n[i]=$4 }
		$1==f && $2==d && index($3,p)==1 && $3 ~ /fieldRef\.fieldPath$/ { i=$3; sub(/\.valueFrom.*/,"",i); v[i]=$4 }
		END { for (i in n) print n[i] "=" v[i] }' "$tmp/all" | sort | tr '\n' ' ')
	check "$w: POD_NAME and POD_NAMESPACE from the downward API ($env)" \
		bash -c "grep -q 'POD_NAME=metadata.name ' <<<'$env' && grep -q 'POD_NAMESPACE=metadata.namespace ' <<<'$env'"
	eval "env_$w=\"\$env\""
done
check "both workloads run the same image" \
	test "$(q "$CF" "$CD" "$K.image")" = "$(q "$SF" "$SD" "$K.image")"

check "controller: 2 replicas" test "$(q "$CF" "$CD" .spec.replicas)" = 2
check "controller: --leader-elect" grep -qx -- --leader-elect "$tmp/args.controller"
check "controller: runAsNonRoot" test "$(q "$CF" "$CD" "$C.securityContext.runAsNonRoot")" = true
check "controller: no capability added" \
	test -z "$(list "$CF" "$CD" "$K.securityContext.capabilities.add")"
check "speaker: hostNetwork" test "$(q "$SF" "$SD" "$C.hostNetwork")" = true
list "$SF" "$SD" "$K.securityContext.capabilities.add" | sort >"$tmp/caps"
printf 'NET_ADMIN\nNET_RAW\n' >"$tmp/want"
same "speaker: capabilities add exactly NET_RAW and NET_ADMIN" "$tmp/want" "$tmp/caps"
check "speaker: NODE_NAME from spec.nodeName" grep -q 'NODE_NAME=spec.nodeName ' <<<"$env_speaker"
check "speaker: tolerates control-plane nodes" \
	grep -qP "^\Q$SF\E\t$SD\t\Q$C\E\.tolerations\[\d+\]\.key\tnode-role.kubernetes.io/control-plane$" "$tmp/all"

# ---------- RBAC against the code ----------
# 1. The API paths in lib/: exactly the ones this table knows (a new call fails here until the
#    table and rbac.yaml are extended). Path → group/resource and the verbs its methods mean.
cat >"$tmp/known" <<'EOF'
"/api/v1/namespaces"
"/api/v1/namespaces/%s/services/%s/status"
"/api/v1/nodes"
"/api/v1/pods"
"/api/v1/services"
"/apis/coordination.k8s.io/v1/namespaces/%s/leases"
"/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s"
"/apis/discovery.k8s.io/v1/endpointslices"
"/apis/events.k8s.io/v1/namespaces/%s/events"
"/apis/events.k8s.io/v1/namespaces/%s/events/%s"
EOF
grep -ho '"/api[^"]*"' "$TOP"/lib/*.c | sort -u >"$tmp/paths"
same "the Kubernetes API paths in lib/*.c are the known ones" "$tmp/known" "$tmp/paths"
grep -ho 'kube_http_request([^,]*, *"[A-Z]*"' "$TOP"/lib/*.c | grep -o '"[A-Z]*"' | sort -u >"$tmp/methods"
printf '"GET"\n"PATCH"\n"POST"\n"PUT"\n' >"$tmp/want"
same "the HTTP methods in lib/*.c are GET, PATCH, POST, PUT (no DELETE: a Lease is released by PUT)" \
	"$tmp/want" "$tmp/methods"
check "lib/source_kube_write.c PATCHes services/status and, without /status, the Service" \
	bash -c "grep -q 'services/%s/status' '$TOP/lib/source_kube_write.c' && grep -q 'strlen(\"/status\")' '$TOP/lib/source_kube_write.c'"

# 2. What each daemon needs, from its source: the kinds it watches (list+watch), and the writes
#    it makes. Lines: SCOPE GROUP RESOURCE VERB (group "core" for ""; scope ns = barelb-system).
kind_rule() {
	case $1 in
	SERVICE) echo "cluster core services" ;;
	ENDPOINTSLICE) echo "cluster discovery.k8s.io endpointslices" ;;
	NODE) echo "cluster core nodes" ;;
	NAMESPACE) echo "cluster core namespaces" ;;
	POD) echo "cluster core pods" ;;
	LEASE) echo "ns coordination.k8s.io leases" ;;
	*) echo "unknown kind $1" ;;
	esac
}
needs() { # daemon-sources...
	local kinds k
	kinds=$(grep -h -A3 '\.kinds *=' "$@" | sed -n '1,/,$/p' | grep -o 'KOBJ_[A-Z]*' | sort -u)
	for k in $kinds; do
		r=$(kind_rule "${k#KOBJ_}")
		echo "$r list"
		echo "$r watch"
	done
	if grep -q 'source_patch_service(' "$@"; then
		echo "cluster core services patch"
		echo "cluster core services/status patch"
	fi
	if grep -q 'source_event(' "$@"; then
		echo "cluster events.k8s.io events create"
		echo "cluster events.k8s.io events patch"
	fi
	if grep -q 'leader_new(\|source_lease_renew(' "$@"; then
		# lease_op: GET, then PUT, or POST when it does not exist (lib/source_kube_write.c)
		echo "ns coordination.k8s.io leases get"
		echo "ns coordination.k8s.io leases update"
		echo "ns coordination.k8s.io leases create"
	fi
}
needs "$TOP"/controller/*.c | sort -u >"$tmp/need.controller"
needs "$TOP"/speaker/*.c "$TOP"/speaker/*/*.c | sort -u >"$tmp/need.speaker"
check "the controller's needs were found in its source" test -s "$tmp/need.controller"
check "the speaker's needs were found in its source" test -s "$tmp/need.speaker"

# 3. What rbac.yaml grants each ServiceAccount, expanded to the same lines.
grants() { # serviceaccount
	local f d kind role scope
	awk -F'\t' '$3==".kind" && ($4=="ClusterRoleBinding" || $4=="RoleBinding") { print $1 "\t" $2 "\t" $4 }' "$tmp/all" |
		while IFS=$'\t' read -r f d kind; do
			grep -qP "^\Q$f\E\t$d\t\.subjects\[\d+\]\.name\t\Q$1\E$" "$tmp/all" || continue
			role=$(q "$f" "$d" .roleRef.name)
			rk=$(q "$f" "$d" .roleRef.kind)
			[ "$rk" = ClusterRole ] && scope=cluster || scope=ns
			read -r rf rd <<<"$(doc "$rk" "$role")"
			awk -F'\t' -v f="$rf" -v d="$rd" -v s="$scope" '
				$1==f && $2==d && match($3, /^\.rules\[[0-9]+\]/) {
					r = substr($3, 1, RLENGTH); rest = substr($3, RLENGTH + 1)
					if (rest ~ /^\.apiGroups\[/) g[r] = g[r] " " ($4 == "" ? "core" : $4)
					if (rest ~ /^\.resources\[/) res[r] = res[r] " " $4
					if (rest ~ /^\.verbs\[/) v[r] = v[r] " " $4
					rules[r] = 1
				}
				END {
					for (r in rules) {
						ng = split(g[r], G, " "); nr = split(res[r], R, " "); nv = split(v[r], V, " ")
						for (i = 1; i <= ng; i++) for (j = 1; j <= nr; j++) for (k = 1; k <= nv; k++)
							print s " " G[i] " " R[j] " " V[k]
					}
				}' "$tmp/all"
		done
}
for w in controller speaker; do
	grants "barelb-$w" | sort -u >"$tmp/grant.$w"
	same "RBAC for barelb-$w is exactly what the code calls (no more, no less)" \
		"$tmp/need.$w" "$tmp/grant.$w"
done
check "no rule uses a wildcard" bash -c "! grep -qP '\.(verbs|resources|apiGroups)\[\d+\]\t\*$' '$tmp/all'"
# The controller's Lease name, as the code spells it, is the only one it may get and update.
lname=$(grep -o 'lease_name = "[^"]*"' "$TOP/controller/controller.c" | head -1 | cut -d'"' -f2)
read -r rf rd <<<"$(doc Role barelb-controller)"
check "the controller may get/update only its Lease '$lname'" \
	test -n "$lname" -a "$(awk -F'\t' -v f="$rf" -v d="$rd" '$1==f && $2==d && $3 ~ /resourceNames/ { print $4 }' "$tmp/all")" = "$lname"

# ---------- the ConfigMap's config ----------
check "the ConfigMap's config.yaml is conf/config.yaml" cmp -s "$tmp/config.yaml" "$TOP/conf/config.yaml"
"$BIN/barelbctl" check-config "$tmp/config.yaml" >"$tmp/cc" 2>&1
check "the ConfigMap's config passes barelbctl check-config" test $? -eq 0

# ---------- Dockerfile ----------
DF=$TOP/Dockerfile
check "Dockerfile: Debian 12 build stage that runs make" \
	bash -c "grep -qE '^FROM debian:12(-slim)?(@\S+)? AS build' '$DF' && grep -qE '^RUN .*\bmake\b' '$DF'"
check "Dockerfile: says why CI cannot build it" grep -qi 'docker cannot run' "$DF"
pkgs=$(awk '/^FROM/ { stage++ } stage == 2 && !/^[[:space:]]*#/' "$DF" | grep -oE '\b(lib[a-z0-9.+-]+)' | sort -u)
missing=""
for p in $pkgs; do apt-cache show "$p" >/dev/null 2>&1 || missing="$missing $p"; done
check "Dockerfile: every runtime package exists in Debian 12 (${pkgs//$'\n'/ })${missing:+ missing:$missing}" \
	test -n "$pkgs" -a -z "$missing"
# The packages that hold the libraries the release binaries link directly must all be installed.
if [ -x "$TOP/bin/barelb-speaker" ]; then
	need=""
	for b in "$TOP"/bin/barelb-controller "$TOP"/bin/barelb-speaker "$TOP"/bin/barelbctl; do
		for so in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			path=$(ldd "$b" | awk -v s="$so" '$1==s { print $3 }')
			pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null)
			pkg=${pkg%%:*}
			[ "$pkg" = libc6 ] && continue
			grep -qx "$pkg" <<<"$pkgs" || need="$need $so($pkg)"
		done
	done
	check "Dockerfile: runtime packages cover the binaries' libraries${need:+ (missing:$need)}" \
		test -z "$need"
else
	ok "# SKIP release binaries not built: library coverage not checked"
fi
tap_end
