/* epoll event loop. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "loop.h"

#define MAX_HANDLERS 16

struct handler {
	int fd;
	fb_loop_fn fn;
	void *ctx;
};

struct fb_loop {
	int epfd;
	int n;
	struct handler h[MAX_HANDLERS];
};

struct fb_loop *fb_loop__new(void)
{
	struct fb_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void fb_loop__free(struct fb_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

int fb_loop__add(struct fb_loop *l, int fd, uint32_t events, fb_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };

	if (l->n == MAX_HANDLERS)
		return -ENOSPC;
	l->h[l->n] = (struct handler){ fd, fn, ctx };
	ev.data.ptr = &l->h[l->n];
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->n++;
	return 0;
}

int fb_loop__run(struct fb_loop *l)
{
	struct epoll_event evs[MAX_HANDLERS];
	int i, n, r;

	for (;;) {
		n = epoll_wait(l->epfd, evs, MAX_HANDLERS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			struct handler *h = evs[i].data.ptr;

			r = h->fn(h->ctx, h->fd, evs[i].events);
			if (r)
				return r;
		}
	}
}
