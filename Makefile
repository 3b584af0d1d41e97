# flowbatch build. Everything generated lands in build/ (vmlinux.h, BPF
# objects, skeletons, user objects, binaries). `make V=1` shows commands,
# `make SAN=1` builds with ASan+UBSan, `make WERROR=1` turns warnings into errors.

OUT      ?= build
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION  := 0.1.0

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# CFLAGS is the user's (make CFLAGS=-O0 works); what the build needs is in
# FB_CFLAGS, which always comes first.
CFLAGS   ?= -O2 -g
FB_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -MMD -MP
ifeq ($(WERROR),1)
FB_CFLAGS += -Werror
endif
ifeq ($(SAN),1)
override OUT := $(OUT)/san
FB_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
FB_CFLAGS += -Iinclude -I$(OUT) -Iuser -DFB_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(FB_CFLAGS) $(CFLAGS)
LDLIBS   += -lbpf -lelf -lz -lmicrohttpd

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUT) -Wall -Wno-unused-function -MMD -MP

# user/ modules; main.c wires them, the rest is reused by tests and bench
CORE_SRCS := cli.c log.c agg.c batch.c flows.c pipeline.c ring.c fmt.c format.c fmt_table.c fmt_jsonl.c \
             out.c out_stdout.c events.c loop.c netwatch.c
# outputs: isolation, files, csv (issue 8)
CORE_SRCS += writer.c fmt_csv.c out_file.c
BPF_SRCS  := capture.c
# interfaces' link types (issue 7)
CORE_SRCS += linktype.c
# network outputs: prometheus, ipfix (issue 9)
CORE_SRCS += out_prom.c out_ipfix.c hostport.c
# kernel event families (issue 10)
CORE_SRCS += fam_tab.c fam_tcp.c fam_drops.c
BPF_SRCS  += capture_events.c
CORE_OBJS := $(addprefix $(OUT)/user/,$(CORE_SRCS:.c=.o))
BPF_OBJS  := $(addprefix $(OUT)/user/,$(BPF_SRCS:.c=.o))
SKEL      := $(OUT)/flowbatch.skel.h

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(OUT)/tests/unit
BPFT_BIN  := $(OUT)/tests/bpf

.PHONY: bench-tools all clean test test-unit test-bpf test-e2e demo deps bench check-deps
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUT)/flowbatch

deps:
	$(Q)scripts/deps.sh

$(OUT) $(OUT)/user $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/user/%.o: user/%.c | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# ring.o maps rings but needs no skeleton: unit tests build without BPF tools
$(OUT)/user/capture.o: $(SKEL)

$(OUT)/fbsend: bench/fbsend.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< -o $@

$(OUT)/tcxq: tests/e2e/tcxq.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< -lbpf -o $@

$(OUT)/xdp_pass.bpf.o: tests/e2e/xdp_pass.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/flowbatch: $(OUT)/user/main.o $(CORE_OBJS) $(BPF_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- tests -------------------------------------------------------------
$(UNIT_BIN): $(UNIT_SRCS) $(CORE_OBJS) | $(OUT)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(UNIT_SRCS) $(CORE_OBJS) -lcriterion -lz -lpthread -lmicrohttpd -o $@

BPFT_OBJS := $(addprefix $(OUT)/user/,ring.o capture_events.o log.o)
$(BPFT_BIN): tests/bpf/*.c $(SKEL) $(BPFT_OBJS) | $(OUT)/tests
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) tests/bpf/*.c $(BPFT_OBJS) $(LDLIBS) -lcriterion -o $@

test-unit: $(UNIT_BIN)
	$(Q)$(UNIT_BIN) --jobs 2

test-bpf: $(BPFT_BIN)
	$(Q)tests/bpf/run.sh $(BPFT_BIN)

test-e2e: $(OUT)/flowbatch $(OUT)/fbsend $(OUT)/xdp_pass.bpf.o $(OUT)/tcxq
	$(Q)tests/e2e/run.sh $(OUT)/flowbatch

# The whole suite: what README.md and .ci/run call. Installs what is missing.
test: check-deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 all $(UNIT_BIN) $(BPFT_BIN)
	$(Q)$(MAKE) --no-print-directory test-unit
	$(Q)$(MAKE) --no-print-directory SAN=1 test-unit
	$(Q)$(MAKE) --no-print-directory test-bpf
	$(Q)$(MAKE) --no-print-directory test-e2e

check-deps:
	$(Q)scripts/deps.sh

demo: check-deps all $(OUT)/fbsend
	$(Q)scripts/demo.sh $(OUT)/flowbatch $(OUT)/fbsend

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory bench-tools
	$(Q)OUT=$(OUT) bench/run.sh

clean:
	$(Q)rm -rf build

# --- benchmarks (bench/run.sh drives them; `make bench` as root) --------
BENCH_SKEL := $(OUT)/bench.skel.h

$(OUT)/bench.bpf.o: bench/bench.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/%: bench/%.c $(wildcard bench/*.h) $(CORE_OBJS) $(SKEL) $(BENCH_SKEL)
	$(Q)mkdir -p $(OUT)/bench
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -lpthread -o $@

bench-tools: $(OUT)/flowbatch $(OUT)/fbsend $(OUT)/xdp_pass.bpf.o $(addprefix $(OUT)/bench/,$(notdir $(basename $(wildcard bench/b_*.c))))

# header dependencies written by -MMD next to each object
-include $(wildcard $(OUT)/*.d $(OUT)/user/*.d $(OUT)/tests/*.d $(OUT)/bench/*.d)
