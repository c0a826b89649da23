#include "tests/testing/virtual_hosts.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

namespace parzen::testing {
namespace {

constexpr char kSubnet[] = "10.201.0.";

bool Sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

constexpr char kOwnerAlias[] = "parzen-test-pid=";

// Whether the run that made bridge `name` (tag `tag`) may still be using
// it. Its alias holds the full pid of its owner; without one (a bridge of
// an older run) any live process whose pid ends in `tag` (the pid modulo
// 100,000, as in our names) might be it.
bool OwnerIsAlive(const std::string& name, int tag) {
  std::string alias;
  std::getline(std::ifstream("/sys/class/net/" + name + "/ifalias"), alias);
  if (alias.rfind(kOwnerAlias, 0) == 0) {
    return std::filesystem::exists("/proc/" + alias.substr(sizeof(kOwnerAlias) - 1));
  }
  int pid_max = 4194304;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  for (int pid = tag; pid <= pid_max; pid += 100000) {
    if (pid > 0 && std::filesystem::exists("/proc/" + std::to_string(pid))) return true;
  }
  return false;
}

// The tag of a name of ours (pz<tag>br, pz<tag>-<host>), or -1.
int TagOf(const std::string& name, const std::regex& pattern) {
  std::smatch m;
  return std::regex_match(name, m, pattern) ? std::stoi(m[1]) : -1;
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

void VirtualHosts::RemoveStale() {
  std::error_code ignored;
  const std::regex bridge("pz([0-9]{1,5})br"), ns("pz([0-9]{1,5})-.+");
  std::set<int> live_tags;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net", ignored)) {
    const std::string name = entry.path().filename().string();
    const int tag = TagOf(name, bridge);
    if (tag < 0) continue;
    if (name != tag_ + "br" && OwnerIsAlive(name, tag)) {
      live_tags.insert(tag);
    } else {
      Sh("ip link del " + name);
    }
  }
  // A run makes its bridge before its hosts and removes it after them, so
  // a namespace without a live bridge is left over. Deleting a namespace
  // deletes the veth pairs that led into it.
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/netns", ignored)) {
    const std::string name = entry.path().filename().string();
    const int tag = TagOf(name, ns);
    if (tag >= 0 && (name.rfind(tag_ + "-", 0) == 0 || !live_tags.contains(tag))) {
      Sh("ip netns del " + name);
    }
  }
}

bool VirtualHosts::CreateBridge(std::string* error) {
  // A run killed before its clean-up leaves its namespaces and bridge,
  // and the bridge keeps the subnet this one needs.
  RemoveStale();
  if (!Sh("ip link add " + tag_ + "br type bridge") ||
      !Sh("ip addr add " + std::string(kSubnet) + "254/24 dev " + tag_ + "br") ||
      !Sh("ip link set " + tag_ + "br alias " + kOwnerAlias + std::to_string(getpid())) ||
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
