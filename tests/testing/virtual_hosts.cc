#include "tests/testing/virtual_hosts.h"

#include <unistd.h>

#include <cstdlib>

namespace parzen::testing {
namespace {

constexpr char kSubnet[] = "10.201.0.";

bool Sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

// Names carry the pid so concurrent runs do not collide; Linux caps
// interface names at 15 characters.
VirtualHosts::VirtualHosts() : tag_("pz" + std::to_string(getpid() % 100000)) {}

VirtualHosts::~VirtualHosts() {
  for (const std::string& host : hosts_) {
    Sh("ip link del " + tag_ + host);
    Sh("ip netns del " + tag_ + "-" + host);
  }
  Sh("ip link del " + tag_ + "br");
}

bool VirtualHosts::CreateBridge(std::string* error) {
  // Left over from a run that was killed before its clean-up (same pid).
  Sh("ip link del " + tag_ + "br");
  if (!Sh("ip link add " + tag_ + "br type bridge") ||
      !Sh("ip addr add " + std::string(kSubnet) + "254/24 dev " + tag_ + "br") ||
      !Sh("ip link set " + tag_ + "br up")) {
    *error = "cannot create a bridge (needs root and iproute2)";
    return false;
  }
  return true;
}

bool VirtualHosts::AddHost(const std::string& host, int octet, std::string* error) {
  const std::string ns = Namespace(host), veth = tag_ + host, peer = tag_ + host + "p";
  hosts_.push_back(host);
  Sh("ip link del " + veth);
  Sh("ip netns del " + ns);
  const bool ok =
      Sh("ip netns add " + ns) && Sh("ip link add " + veth + " type veth peer name " + peer) &&
      Sh("ip link set " + peer + " netns " + ns) &&
      Sh("ip link set " + veth + " master " + tag_ + "br up") &&
      Sh("ip -n " + ns + " addr add " + Address(octet) + "/24 dev " + peer) &&
      Sh("ip -n " + ns + " link set " + peer + " up") && Sh("ip -n " + ns + " link set lo up");
  if (!ok) *error = "cannot create network namespace " + ns;
  return ok;
}

bool VirtualHosts::CutLink(const std::string& host) {
  return Sh("ip link set " + tag_ + host + " down");
}

bool VirtualHosts::RestoreLink(const std::string& host) {
  return Sh("ip link set " + tag_ + host + " up");
}

std::vector<std::string> VirtualHosts::Exec(const std::string& host) const {
  return {"ip", "netns", "exec", Namespace(host)};
}

std::string VirtualHosts::Address(int octet) { return kSubnet + std::to_string(octet); }

std::string VirtualHosts::Namespace(const std::string& host) const { return tag_ + "-" + host; }

}  // namespace parzen::testing
