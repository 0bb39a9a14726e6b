#!/bin/sh
# The lab's echo server, run by socat for each connection or datagram: it
# answers with the address:port it saw the client at (after the node's SNAT
# that is the node), as the seed's "remote_addr:remote_port" test does.
#   echo.sh http NAME   one HTTP/1.0 response, for curl
#   echo.sh line NAME   one answer per line, for long-lived connections
#   echo.sh udp NAME    one answer to a datagram
name=$2
peer="$SOCAT_PEERADDR:$SOCAT_PEERPORT"
case "$1" in
http)
	while IFS= read -r l; do
		l=$(printf '%s' "$l" | tr -d '\r')
		[ -z "$l" ] && break
	done
	body="backend=$name peer=$peer"
	printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
		$((${#body} + 1)) "$body"
	;;
line)
	while IFS= read -r l; do
		printf 'backend=%s peer=%s %s\n' "$name" "$peer" "$l"
	done
	;;
udp)
	IFS= read -r l
	printf 'backend=%s peer=%s %s\n' "$name" "$peer" "$l"
	;;
esac
