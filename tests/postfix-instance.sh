#!/bin/sh
# postfix-instance.sh - a private Postfix on loopback for the tests that
# use Postfix's smtp and lmtp clients as real clients of psmtpd.
#
#   postfix-instance.sh start DIR TRANSPORT   e.g. smtp:[127.0.0.1]:2525
#                                                  lmtp:inet:127.0.0.1:2424
#   postfix-instance.sh send DIR FROM TO... < message   (sendmail -C DIR)
#   postfix-instance.sh stop DIR
#
# Everything lives in DIR (config, queue, log); no port is opened (the
# master runs pickup, the queue manager and the clients, no smtpd).  Needs
# root (Postfix's master starts as root) and Debian's postfix; exits 77
# when they are missing, so that the caller can skip.
set -e
cmd=$1 dir=$2
shift 2
case $cmd in
start)
	transport=$1
	[ "$(id -u)" = 0 ] || { echo "not root" >&2; exit 77; }
	[ -x /usr/lib/postfix/sbin/master ] || { echo "no postfix" >&2; exit 77; }
	mkdir -p "$dir"
	chmod 755 "$dir"
	mkdir -p "$dir/queue" "$dir/data"
	chown postfix "$dir/data"
	cat > "$dir/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
meta_directory = /etc/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test.example
mydomain = test.example
myorigin = test.example
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
default_transport = $transport
relay_transport = $transport
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
smtp_host_lookup = native
disable_dns_lookups = yes
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
lmtp_destination_recipient_limit = 50
EOC
	cat > "$dir/master.cf" <<EOC
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       -       0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOC
	postfix -c "$dir" check >/dev/null 2>&1 || true
	postfix -c "$dir" start >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; exit 1; }
	;;
send)
	from=$1
	shift
	/usr/sbin/sendmail -C "$dir" -f "$from" "$@"
	;;
stop)
	postfix -c "$dir" stop >/dev/null 2>&1 || true
	pid=$(cat "$dir/queue/pid/master.pid" 2>/dev/null || true)
	pid=$(echo $pid)
	i=0
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
	;;
esac
