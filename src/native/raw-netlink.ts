// Raw bindings of rtnl.cc, ethtool.cc, tap.cc.
export interface RawNetlink {}
