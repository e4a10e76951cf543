# bench/lib.sh: what the benchmark scripts share (sourced, not run): the
# release build, throwaway PostgreSQL and Redis on loopback with their
# cleanup, a broker started on a free port, agent pools and the median.
#
# The sourcing script sets `prog` and `die`, and runs from the source root.

build=build-bench
bin=""
bench_tmp=""
bench_data=""
bench_keep=0
bench_conninfo=""
bench_redis_port=""
broker_pid=""
broker_port=""

# bench_build TARGET...: a release build of the targets in build-bench.
bench_build() {
	echo "$prog: building ($build, release)" >&2
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" --buildtype=release -Dtests=false >&2 ||
			die "meson setup $build failed"
	else
		meson configure "$build" -Dbuildtype=release -Dtests=false >/dev/null ||
			die "meson configure $build failed"
	fi
	# ninja (not meson compile): a build folder older than a new target
	# regenerates itself first.
	ninja -C "$build" "$@" >/dev/null || die "build failed (ninja -C $build $*)"
	bin=$PWD/$build
}

# bench_median VALUE...: the median (mean of the middle two for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_stop_broker() {
	if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
		kill "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
	fi
	broker_pid=""
}

# shellcheck disable=SC2317 # called by the trap
bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	bench_stop_broker
	if [ "$bench_keep" = 1 ]; then
		tools/tmpserver postgres stop "$bench_data/pg" >/dev/null 2>&1 || true
		tools/tmpserver redis stop "$bench_data/redis" >/dev/null 2>&1 || true
	else
		tools/tmpserver postgres destroy "$bench_data/pg" >/dev/null 2>&1 || true
		tools/tmpserver redis destroy "$bench_data/redis" >/dev/null 2>&1 || true
	fi
	rm -rf "$bench_tmp"
	exit "$rc"
}

# bench_servers [DIR keep]: starts PostgreSQL and Redis, in a temporary
# folder removed on exit, or in DIR, stopped (not removed) on exit.
bench_servers() {
	bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotline-$prog.XXXXXX")
	if [ $# -ge 1 ]; then
		bench_data=$1
		bench_keep=1
	else
		bench_data=$bench_tmp
	fi
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "$prog: starting PostgreSQL and Redis in $bench_data" >&2
	tools/tmpserver postgres start "$bench_data/pg" >/dev/null
	bench_conninfo=$(cat "$bench_data/pg/conninfo")
	tools/tmpserver redis start "$bench_data/redis" >/dev/null
	bench_redis_port=$(cat "$bench_data/redis/port")
	bench_random_hex >"$bench_tmp/secret"
	chmod 600 "$bench_tmp/secret"
}

bench_random_hex() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# bench_agent_pools N: N agents in every centre of the database with every
# skill of conf/queues.yaml and one password (bench_tmp/agents.password);
# the 12345 platforms' secrets for the simulator (bench_tmp/platforms.secrets)
# and a work-orders file for the broker (bench_tmp/workorders.yaml).
bench_agent_pools() {
	local skills centre
	skills=$(sed -n 's/^[[:space:]]*skill:[[:space:]]*\([a-z0-9_]*\).*/\1:5/p' conf/queues.yaml |
		sort -u | paste -sd, -)
	[ -n "$skills" ] || die "no skill in conf/queues.yaml"
	(umask 077 && bench_random_hex >"$bench_tmp/agents.password")
	for centre in $("$bin/src/hotline-admin" --db "$bench_conninfo" centre list | cut -f1); do
		"$bin/src/hotline-admin" --db "$bench_conninfo" agent pool --centre "$centre" \
			--count "$1" --skills "$skills" --password-file "$bench_tmp/agents.password" \
			>/dev/null
	done
	local city province
	city=$(bench_random_hex)
	province=$(bench_random_hex)
	(
		umask 077
		printf 'city_12345 %s\nprovince_12345 %s\n' "$city" "$province" \
			>"$bench_tmp/platforms.secrets"
		cat >"$bench_tmp/workorders.yaml" <<YAML
calendar_file: "$PWD/conf/calendar.yaml"
yellow_hours: 24
platforms:
  - name: city_12345
    secret: "$city"
    url: "http://127.0.0.1:9/city_12345/v1/notify"
  - name: province_12345
    secret: "$province"
    url: "http://127.0.0.1:9/province_12345/v1/notify"
YAML
		sed -n '/^deadlines:/,$p' conf/workorders.yaml >>"$bench_tmp/workorders.yaml"
	)
}

bench_healthz() {
	curl -fsS --max-time 2 "http://127.0.0.1:$broker_port/healthz" 2>/dev/null
}

# bench_start_broker CONNINFO KEY_PREFIX: writes the config, starts hotlined
# on a free port and waits for /healthz 200 (the broker answers only once it
# has recovered).
bench_start_broker() {
	broker_port=$(tools/tmpserver port)
	local workorders=$PWD/conf/workorders.yaml
	[ ! -f "$bench_tmp/workorders.yaml" ] || workorders=$bench_tmp/workorders.yaml
	cat >"$bench_tmp/hotline.yaml" <<EOF
# written by bench/$prog
listen:
  address: "127.0.0.1"
  port: $broker_port
auth:
  gateway_secret: "$(cat "$bench_tmp/secret")"
privacy:
  caller_key: "$(bench_random_hex)"
  data_key: "$(bench_random_hex)"
database:
  url: "$1"
redis:
  host: "127.0.0.1"
  port: $bench_redis_port
  key_prefix: "$2"
classifier:
  rules_file: "$PWD/conf/rules.yaml"
acd:
  queues_file: "$PWD/conf/queues.yaml"
workorders:
  file: "$workorders"
log:
  level: "warn"
EOF
	chmod 600 "$bench_tmp/hotline.yaml"
	"$bin/src/hotlined" --config "$bench_tmp/hotline.yaml" >"$bench_tmp/hotlined.out" \
		2>"$bench_tmp/hotlined.err" &
	broker_pid=$!
	for _ in $(seq 1 100); do
		kill -0 "$broker_pid" 2>/dev/null || break
		bench_healthz >/dev/null && return 0
		sleep 0.1
	done
	tail -n 20 "$bench_tmp/hotlined.err" >&2
	die "hotlined did not answer /healthz 200 on 127.0.0.1:$broker_port"
}
