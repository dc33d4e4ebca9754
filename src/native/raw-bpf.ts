// Raw bindings of object.cc, map.cc, link.cc, prog_run.cc, ringbuf.cc.
export interface RawBpf {}
