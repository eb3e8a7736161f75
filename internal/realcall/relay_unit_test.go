package realcall

import (
	"context"
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"
)

// TestRelay checks that the relay impairs the alice → bob direction by
// the figures it is given and leaves bob → alice alone, that each peer
// sees the other at the port it was told, and that a stranger's datagrams
// go nowhere. It needs no browser and no root.
func TestRelay(t *testing.T) {
	impair := impairment{Delay: 40 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.3}
	r, err := newRelay("127.0.0.1", impair, 7)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	}()
	peer := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	alice, bob, stranger := peer(), peer(), peer()
	at := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }

	// recv reads datagrams on c for a while: the sequence numbers, their
	// delays from the send times they carry, and the ports they came from.
	recv := func(c *net.UDPConn, wait time.Duration) (seqs []uint32, delays []time.Duration, ports []int) {
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(wait))
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n != 12 {
				t.Errorf("a datagram of %d bytes, want 12", n)
				return
			}
			seqs = append(seqs, binary.BigEndian.Uint32(buf))
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(buf[4:])))
			delays = append(delays, time.Since(sent))
			ports = append(ports, from.Port)
		}
	}
	send := func(c *net.UDPConn, port int, seq uint32) {
		var b [12]byte
		binary.BigEndian.PutUint32(b[:], seq)
		binary.BigEndian.PutUint64(b[4:], uint64(time.Now().UnixNano()))
		if _, err := c.WriteToUDP(b[:], at(port)); err != nil {
			t.Fatal(err)
		}
	}

	// Bob speaks first, before alice is known: that datagram is lost.
	send(bob, r.portB(), 0)
	time.Sleep(20 * time.Millisecond)
	// Alice's first datagrams teach the relay her address; they reach bob,
	// who reads them as they come.
	const n = 400
	type got struct {
		seqs   []uint32
		delays []time.Duration
		ports  []int
	}
	atBob := make(chan got, 1)
	go func() {
		s, d, p := recv(bob, 800*time.Millisecond)
		atBob <- got{s, d, p}
	}()
	for i := range n {
		send(alice, r.portA(), uint32(i))
		time.Sleep(time.Millisecond)
	}
	g := <-atBob
	seqs, delays, ports := g.seqs, g.delays, g.ports
	loss := 1 - float64(len(seqs))/n
	if loss < 0.2 || loss > 0.4 {
		t.Errorf("alice → bob lost %.0f %% of %d datagrams, want about 30 %%", 100*loss, n)
	}
	for i, d := range delays {
		if d < 19*time.Millisecond || d > 200*time.Millisecond {
			t.Errorf("alice → bob datagram %d took %s, want 40 ms ± 20 ms", seqs[i], d)
			break
		}
	}
	if !slices.IsSorted(seqs) {
		t.Logf("alice → bob arrived out of order, as a jittered path delivers")
	} else {
		t.Errorf("alice → bob: 1 ms apart with ± 20 ms of jitter, yet no datagram overtook another")
	}
	for _, p := range ports {
		if p != r.portB() {
			t.Fatalf("bob received from port %d, want the relay's port B %d", p, r.portB())
		}
	}

	// Bob → alice is not impaired.
	atAlice := make(chan got, 1)
	go func() {
		s, d, p := recv(alice, 300*time.Millisecond)
		atAlice <- got{s, d, p}
	}()
	for i := range 100 {
		send(bob, r.portB(), uint32(i))
		time.Sleep(time.Millisecond / 2)
	}
	g = <-atAlice
	seqs, delays, ports = g.seqs, g.delays, g.ports
	if len(seqs) != 100 {
		t.Errorf("bob → alice delivered %d of 100 datagrams, want all", len(seqs))
	}
	if len(delays) > 0 {
		slices.Sort(delays)
		if med := delays[len(delays)/2]; med > 15*time.Millisecond {
			t.Errorf("bob → alice median delay %s, want no added delay", med)
		}
	}
	for _, p := range ports {
		if p != r.portA() {
			t.Fatalf("alice received from port %d, want the relay's port A %d", p, r.portA())
		}
	}

	// A third party sending to alice's port reaches nobody.
	send(stranger, r.portA(), 9)
	if seqs, _, _ := recv(bob, 150*time.Millisecond); len(seqs) != 0 {
		t.Errorf("a stranger's datagram reached bob")
	}
	if r.strangers.Load() != 1 || r.early.Load() != 1 {
		t.Errorf("strangers %d, early %d; want 1 and 1", r.strangers.Load(), r.early.Load())
	}
	t.Log(r.report())
}
