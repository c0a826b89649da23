// VirtualHosts: hosts of their own on one machine, for tests of what a
// network does to Parzen. Each host is a network namespace with its own
// address, linked to a bridge by a veth pair, so processes in it reach each
// other only by address, and a link can be cut and restored like a cable.
// Needs root (CAP_NET_ADMIN) and iproute2.
#ifndef PARZEN_TESTS_TESTING_VIRTUAL_HOSTS_H_
#define PARZEN_TESTS_TESTING_VIRTUAL_HOSTS_H_

#include <string>
#include <vector>

namespace parzen::testing {

class VirtualHosts {
 public:
  VirtualHosts();
  ~VirtualHosts();
  VirtualHosts(const VirtualHosts&) = delete;
  VirtualHosts& operator=(const VirtualHosts&) = delete;

  // False (and `error` set) where namespaces cannot be made: no root, no
  // CAP_NET_ADMIN, no iproute2. First removes what earlier runs, since
  // ended, left behind.
  bool CreateBridge(std::string* error);
  // A namespace `host` at 10.201.0.`octet`, linked to the bridge.
  bool AddHost(const std::string& host, int octet, std::string* error);

  // Pulls the host's cable: its end of the veth pair goes down.
  bool CutLink(const std::string& host);
  bool RestoreLink(const std::string& host);

  // The command prefix that runs a program on `host`.
  std::vector<std::string> Exec(const std::string& host) const;
  static std::string Address(int octet);

 private:
  std::string Namespace(const std::string& host) const;
  void RemoveStale();

  std::string tag_;
  std::vector<std::string> hosts_;
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_VIRTUAL_HOSTS_H_
