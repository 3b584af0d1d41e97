/* Parsing of "HOST:PORT" targets (hostport.h). getaddrinfo does the work
 * so IPv4, IPv6 and names behave as everywhere else; this file only splits
 * the string and words the errors. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "hostport.h"

static void fill_text(struct fb_hostport *hp)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (hp->family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&hp->ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		snprintf(hp->text, sizeof(hp->text), "[%s]:%u", a, port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&hp->ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		snprintf(hp->text, sizeof(hp->text), "%s:%u", a, port);
	}
}

int fb_hostport_parse(const char *s, const char *def_host, bool numeric, struct fb_hostport *hp,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char host[256], *end;
	const char *colon, *port_s;
	unsigned long port;
	size_t hl;
	int r;

	memset(hp, 0, sizeof(*hp));
	if (!s || !*s) {
		snprintf(err, errlen, "empty address (expected HOST:PORT)");
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPV6]:PORT", s);
			return -EINVAL;
		}
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host)) {
			snprintf(err, errlen, "'%s': address too long", s);
			return -EINVAL;
		}
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		port_s = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errlen, "'%s': no port (expected HOST:PORT)", s);
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			snprintf(err, errlen, "'%s': write an IPv6 address in brackets: [ADDR]:PORT", s);
			return -EINVAL;
		}
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host)) {
			snprintf(err, errlen, "'%s': host too long", s);
			return -EINVAL;
		}
		memcpy(host, s, hl);
		host[hl] = 0;
		port_s = colon + 1;
	}
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port < 1 || port > 65535 || *port_s == '+' || *port_s == '-') {
		snprintf(err, errlen, "'%s': port must be 1..65535", s);
		return -EINVAL;
	}
	if (!host[0]) {
		if (!def_host) {
			snprintf(err, errlen, "'%s': no host (expected HOST:PORT)", s);
			return -EINVAL;
		}
		snprintf(host, sizeof(host), "%s", def_host);
	}
	if (numeric) {
		/* inet_pton, not getaddrinfo: "1.2.3" is a typo, not 1.2.0.3 */
		struct in6_addr a6;

		if (inet_pton(AF_INET, host, &a6) != 1 && inet_pton(AF_INET6, host, &a6) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv4 or IPv6 address", s, host);
			return -EINVAL;
		}
	}
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	r = getaddrinfo(host, port_s, &hints, &res);
	if (r) {
		snprintf(err, errlen, "'%s': cannot resolve '%s': %s", s, host, gai_strerror(r));
		return -EINVAL;
	}
	if (res->ai_addrlen > sizeof(hp->ss) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		snprintf(err, errlen, "'%s': not an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	memcpy(&hp->ss, res->ai_addr, res->ai_addrlen);
	hp->len = res->ai_addrlen;
	hp->family = res->ai_family;
	freeaddrinfo(res);
	fill_text(hp);
	return 0;
}
