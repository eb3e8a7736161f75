package realcall

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// The test runs each scenario in a child process (its own test binary)
// started in a new network namespace, whose only interface is a loopback
// that starts down.

// ifreqFlags is the part of the kernel's struct ifreq that SIOCGIFFLAGS
// and SIOCSIFFLAGS use: the interface name and its flags (the rest of the
// union is padding).
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp brings the namespace's lo up, as `ip link set lo up` does.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for ioctl: %w", err)
	}
	defer syscall.Close(fd)
	var req ifreqFlags
	copy(req.name[:], "lo")
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return fmt.Errorf("reading lo's flags: %w", errno)
	}
	req.flags |= syscall.IFF_UP
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return fmt.Errorf("setting lo up: %w", errno)
	}
	return nil
}

// onlyLoopback checks that the process sees no network interface but an
// up loopback: whatever the scenario does stays on this machine and
// touches nobody else's traffic.
func onlyLoopback() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	if len(ifs) != 1 || ifs[0].Flags&net.FlagLoopback == 0 {
		return fmt.Errorf("the namespace has the interfaces %s, want only a loopback", strings.Join(names, ", "))
	}
	if ifs[0].Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s is down", ifs[0].Name)
	}
	return nil
}

// nftTable is the table the nftables scenario adds to the namespace; it
// goes away with the namespace.
const nftTable = "calldiag_realcall"

// dropShare makes nftables drop share percent, at random, of the UDP
// datagrams sent to port. The rule is on the input hook, where a loopback
// datagram arrives after it was sent: a drop on the output hook fails the
// sender's sendto with EPERM, and Chromium then sends the datagram again,
// so hardly any loss would reach the far end.
func dropShare(ctx context.Context, port, share int) error {
	rules := fmt.Sprintf(`table inet %s {
	chain in {
		type filter hook input priority 0; policy accept;
		meta l4proto udp udp dport %d numgen random mod 100 < %d counter drop
	}
}
`, nftTable, port, share)
	nft, err := nftPath()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, nft, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft -f: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// nftPath finds nft, which lives in /usr/sbin, not always on a user's PATH.
func nftPath() (string, error) {
	if p, err := exec.LookPath("nft"); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("/usr/sbin/nft"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("nft on PATH or in /usr/sbin (Debian's nftables package)")
}

var nftCounter = regexp.MustCompile(`counter packets (\d+) bytes \d+`)

// nftDropped reads how many datagrams the rule dropped.
func nftDropped(ctx context.Context) (int64, error) {
	nft, err := nftPath()
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, nft, "list", "table", "inet", nftTable).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nft list table: %w: %s", err, bytes.TrimSpace(out))
	}
	m := nftCounter.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no counter in the table:\n%s", out)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}
