/* A small epoll event loop: file descriptors with callbacks and a context
 * pointer, run until a callback asks to stop. */
#ifndef FB_LOOP_H
#define FB_LOOP_H
#include <stdint.h>

struct fb_loop;

/* Returns 0 to go on, 1 to stop the loop, <0 (-errno) to stop with an error. */
typedef int (*fb_loop_fn)(void *ctx, int fd, uint32_t events);

struct fb_loop *fb_loop__new(void);
void fb_loop__free(struct fb_loop *l);
/* events: EPOLLIN, optionally EPOLLET. Returns 0 or -errno. */
int fb_loop__add(struct fb_loop *l, int fd, uint32_t events, fb_loop_fn fn, void *ctx);
/* Runs until a callback returns non-zero; returns that value (1 or <0). */
int fb_loop__run(struct fb_loop *l);

/* A non-blocking timerfd on CLOCK_MONOTONIC that first fires at the
 * absolute time first_ns, then every period_ns (0: once). Returns the fd
 * or -errno. */
int fb_timer_fd(uint64_t first_ns, uint64_t period_ns);

#endif
