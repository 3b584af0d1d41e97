#!/bin/bash
# Exact per-flow packet and byte counts on TC ingress (tcx links): UDP, TCP,
# ICMP and SCTP over IPv4, UDP, TCP and ICMPv6 over IPv6, each with its own
# frame size; per-batch ledger, summary "ledger exact", nothing left attached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
exact_test
