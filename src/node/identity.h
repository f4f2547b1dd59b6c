// A node's identity (its index in the deployment, name, MAC and IP address) and the
// hostname made from it with an operator's template.
#pragma once

#include <string>

#include "util/status.h"

namespace ka::node {

struct Identity {
  int index = 0;     // the node's number in the deployment (0, 1, ...)
  std::string name;  // a name given by the operator or the server (may be empty)
  std::string mac;   // MAC address of the interface ka reached it through ("52:54:00:12:34:56")
  std::string ip;    // its IP address ("10.0.0.7")
};

// Expands a hostname template:
//   {index}    the index in decimal          node{index}     -> node7
//   {index:0N} zero padded to N digits       node{index:03}  -> node007
//   {mac}      lowercase hex, no separators  n-{mac}         -> n-525400123456
//   {ip}       dots (and colons) as dashes   ip-{ip}         -> ip-10-0-0-7
//   {name}     the name
// ASCII letters are lowered. The result must be a valid RFC 1123 hostname (see
// ValidateHostname); errors name the template, the node and the reason.
Result<std::string> ExpandHostname(const std::string& tmpl, const Identity& id);

// 1..64 bytes (the kernel's limit), dot-separated labels of 1..63 characters from
// [a-z0-9-] that neither start nor end with '-'.
Status ValidateHostname(const std::string& hostname);

}  // namespace ka::node
