/* epoll event loop. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "loop.h"

#define MAX_EVENTS 64

struct handler {
	int fd;
	fb_loop_fn fn;
	void *ctx;
	struct handler *next;
};

struct fb_loop {
	int epfd;
	struct handler *h; /* each registered fd; epoll holds pointers to them */
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
	struct handler *h, *next;

	if (!l)
		return;
	for (h = l->h; h; h = next) {
		next = h->next;
		free(h);
	}
	close(l->epfd);
	free(l);
}

int fb_loop__add(struct fb_loop *l, int fd, uint32_t events, fb_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct handler *h = malloc(sizeof(*h));

	if (!h)
		return -ENOMEM;
	*h = (struct handler){ fd, fn, ctx, l->h };
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		free(h);
		return -e;
	}
	l->h = h;
	return 0;
}

int fb_loop__run(struct fb_loop *l)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n, r;

	for (;;) {
		n = epoll_wait(l->epfd, evs, MAX_EVENTS, -1);
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

int fb_timer_fd(uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ns / 1000000000ull), (long)(first_ns % 1000000000ull) },
		.it_interval = { (time_t)(period_ns / 1000000000ull), (long)(period_ns % 1000000000ull) },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}
