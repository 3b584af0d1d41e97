#!/bin/bash
# Exact per-flow packet and byte counts with --hook xdp (XDP ingress): the
# test of t_exact_tc.sh (UDP, TCP, ICMP and SCTP over IPv4, UDP, TCP and
# ICMPv6 over IPv6, per-batch ledger, "ledger exact", nothing left attached).
. "$(dirname "$0")/t_exact_tc.sh" --hook xdp
