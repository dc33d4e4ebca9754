# Builds what the daemon loads: vmlinux.h from the running kernel's BTF, the BPF
# objects, the native addon and the compiled TypeScript. scripts/setup.sh calls it;
# every target is incremental, so a second run does nothing and prints nothing.
BUILD      := build
KREL       := $(shell uname -r)
VMLINUX    := $(BUILD)/vmlinux/$(KREL)/vmlinux.h
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/lib/*.h bpf/gen/*.h)
ADDON      := native/build/Release/xdpswitch.node
NATIVE_SRC := native/binding.gyp $(wildcard native/src/*.cc native/src/*.h)
TS_SRC     := $(shell find src proto -name '*.ts' 2>/dev/null) tsconfig.json
GEN_SRC    := $(shell find proto/datapath proto/lib -name '*.ts' 2>/dev/null) scripts/gen.ts
GEN_OUT    := bpf/gen/maps.h src/datapath/gen/maps.ts
NODEDIR    := $(shell node -p "require('path').resolve(process.execPath, '../..')")
BIN        := node_modules/.bin

CLANG      ?= clang
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
              -Wno-unused-function -I$(dir $(VMLINUX)) -Ibpf

.PHONY: all bpf native ts gen clean
all: bpf native ts

gen: $(GEN_OUT)
$(GEN_OUT) &: $(GEN_SRC)
	@echo "  GEN     $(GEN_OUT)"
	@$(BIN)/tsx scripts/gen.ts

$(VMLINUX):
	@echo "  BTF     $@ (kernel $(KREL))"
	@mkdir -p $(dir $@)
	@bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

bpf: $(BPF_OBJS)
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX)
	@echo "  BPF     $@"
	@mkdir -p $(dir $@)
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp && mv $@.tmp $@

native: $(ADDON)
$(ADDON): $(NATIVE_SRC)
	@echo "  ADDON   $@"
	@cd native && ../$(BIN)/node-gyp configure build -j 2 --nodedir=$(NODEDIR) --loglevel=error > build.log 2>&1 \
	  || { cat build.log >&2; rm -f ../$(ADDON); exit 1; }
	@touch $@

ts: dist/.stamp
dist/.stamp: $(TS_SRC) $(GEN_OUT)
	@echo "  TSC     dist/"
	@$(BIN)/tsc -p tsconfig.json
	@touch $@

# The switch's own object also includes the generated map layouts.
$(BUILD)/bpf/xdpswitch.bpf.o: bpf/gen/maps.h

clean:
	rm -rf $(BUILD) dist native/build
