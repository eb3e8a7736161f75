package realcall

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// impairment is what the relay does to the datagrams of one direction.
type impairment struct {
	// Delay is added to every datagram, plus or minus a random share of
	// Jitter (uniform in [-Jitter, +Jitter], never below zero). Each
	// datagram is delayed on its own, so the order is NOT kept: two
	// datagrams whose delays differ by more than the gap between them
	// arrive swapped, as on a path whose packets take different routes.
	Delay, Jitter time.Duration
	// Loss is the share of datagrams dropped at random (0 to 1).
	Loss float64
}

func (m impairment) String() string {
	if m == (impairment{}) {
		return "none"
	}
	return fmt.Sprintf("delay %s ± %s, loss %.0f %%", m.Delay, m.Jitter, 100*m.Loss)
}

// relay forwards UDP datagrams between two peers that each believe the
// other is at one of the relay's ports. Alice sends to port A and Bob to
// port B; the relay learns each peer's address from the first datagram on
// its port, and sends what arrives on A to Bob from B and what arrives on
// B to Alice from A, so each peer sees its partner at the port it was told.
// STUN checks and media both pass through it. Only the alice → bob
// direction (datagrams arriving on A) is impaired.
type relay struct {
	a, b   *net.UDPConn
	impair impairment

	mu         sync.Mutex
	rng        *rand.Rand
	alice, bob *net.UDPAddr

	// Counters per direction: datagrams that arrived, that the
	// impairment dropped, and that were sent on.
	aliceIn, aliceDropped, aliceOut atomic.Int64
	bobIn, bobDropped, bobOut       atomic.Int64
	// early counts datagrams that came before the other peer's address
	// was known, and strangers those from an address other than the peer
	// learned on that port; both are dropped.
	early, strangers atomic.Int64

	pending sync.WaitGroup
}

// newRelay listens on two UDP ports of host.
func newRelay(host string, impair impairment, seed uint64) (*relay, error) {
	listen := func() (*net.UDPConn, error) {
		return net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(host)})
	}
	a, err := listen()
	if err != nil {
		return nil, fmt.Errorf("relay port for alice: %w", err)
	}
	b, err := listen()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("relay port for bob: %w", err)
	}
	return &relay{a: a, b: b, impair: impair, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// portA is the port alice sends to (where bob appears to be).
func (r *relay) portA() int { return r.a.LocalAddr().(*net.UDPAddr).Port }

// portB is the port bob sends to (where alice appears to be).
func (r *relay) portB() int { return r.b.LocalAddr().(*net.UDPAddr).Port }

// run forwards datagrams until ctx ends, then closes the ports.
func (r *relay) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = r.pump(r.a, r.b, true) })
	wg.Go(func() { errs[1] = r.pump(r.b, r.a, false) })
	<-ctx.Done()
	r.a.Close()
	r.b.Close()
	wg.Wait()
	r.pending.Wait()
	return errors.Join(errs...)
}

// pump reads datagrams arriving on in and sends them out of out to the
// peer learned on out's side.
func (r *relay) pump(in, out *net.UDPConn, fromAlice bool) error {
	buf := make([]byte, 64*1024)
	for {
		n, from, err := in.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("relay read: %w", err)
		}
		r.mu.Lock()
		self, peer := &r.bob, r.alice
		if fromAlice {
			self, peer = &r.alice, r.bob
		}
		if *self == nil {
			*self = from
		}
		known := (*self).AddrPort() == from.AddrPort()
		var drop bool
		var delay time.Duration
		if fromAlice {
			drop, delay = r.draw()
		}
		r.mu.Unlock()
		if !known {
			r.strangers.Add(1)
			continue
		}
		inCount, dropCount, outCount := &r.bobIn, &r.bobDropped, &r.bobOut
		if fromAlice {
			inCount, dropCount, outCount = &r.aliceIn, &r.aliceDropped, &r.aliceOut
		}
		inCount.Add(1)
		if peer == nil {
			// The other peer has not sent yet, so its address is unknown:
			// the datagram is lost, and ICE will send its check again.
			r.early.Add(1)
			continue
		}
		if drop {
			dropCount.Add(1)
			continue
		}
		msg := append([]byte(nil), buf[:n]...)
		send := func() {
			if _, err := out.WriteToUDP(msg, peer); err == nil {
				outCount.Add(1)
			}
		}
		if delay <= 0 {
			send()
			continue
		}
		r.pending.Add(1)
		time.AfterFunc(delay, func() {
			defer r.pending.Done()
			send()
		})
	}
}

// draw decides the fate of one impaired datagram; r.mu is held.
func (r *relay) draw() (drop bool, delay time.Duration) {
	m := r.impair
	if m.Loss > 0 && r.rng.Float64() < m.Loss {
		return true, 0
	}
	delay = m.Delay
	if m.Jitter > 0 {
		delay += time.Duration((2*r.rng.Float64() - 1) * float64(m.Jitter))
	}
	return false, max(delay, 0)
}

// report tells what the relay did in each direction.
func (r *relay) report() string {
	return fmt.Sprintf("alice → bob: %d in, %d dropped (%.1f %%), %d out; bob → alice: %d in, %d dropped, %d out; "+
		"%d before both peers were known, %d from strangers",
		r.aliceIn.Load(), r.aliceDropped.Load(), pct(r.aliceDropped.Load(), r.aliceIn.Load()), r.aliceOut.Load(),
		r.bobIn.Load(), r.bobDropped.Load(), r.bobOut.Load(), r.early.Load(), r.strangers.Load())
}

func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
