package cgroup

import (
	"fmt"
	"time"
)

// FreezerState is the state of a cgroup freezer.
type FreezerState string

const (
	// Thawed cgroups run normally.
	Thawed FreezerState = "THAWED"
	// Freezing cgroups have been asked to freeze but still have running
	// tasks.
	Freezing FreezerState = "FREEZING"
	// Frozen cgroups have all their tasks stopped.
	Frozen FreezerState = "FROZEN"
)

// FreezeTimeout bounds how long Freeze and Thaw wait for the kernel.
var FreezeTimeout = 10 * time.Second

// freezerDir returns the directory used for freezing: the v1 freezer
// hierarchy when mounted, otherwise the cgroup2 directory (cgroup.freeze).
func (c *Cgroup) freezerDir() (string, bool, error) {
	dir, v2, ok := c.route("freezer", "")
	if !ok {
		return "", false, fmt.Errorf("no freezer: neither a v1 freezer hierarchy nor cgroup v2 is available")
	}
	return dir, v2, nil
}

// FreezerState reads the current freezer state.
func (c *Cgroup) FreezerState() (FreezerState, error) {
	dir, v2, err := c.freezerDir()
	if err != nil {
		return "", err
	}
	if !v2 {
		s, err := readTrimmed(dir, "freezer.state")
		if err != nil {
			return "", fmt.Errorf("reading freezer state: %w", err)
		}
		return FreezerState(s), nil
	}
	frozen, err := v2Frozen(dir)
	if err != nil {
		return "", err
	}
	if frozen {
		return Frozen, nil
	}
	want, err := readTrimmed(dir, "cgroup.freeze")
	if err != nil {
		return "", fmt.Errorf("reading cgroup.freeze: %w", err)
	}
	if want == "1" {
		return Freezing, nil
	}
	return Thawed, nil
}

// v2Frozen reads the "frozen" key of cgroup.events.
func v2Frozen(dir string) (bool, error) {
	ev, err := readKeyValues(dir, "cgroup.events")
	if err != nil {
		return false, fmt.Errorf("reading cgroup.events: %w", err)
	}
	return ev["frozen"] == 1, nil
}

// Paused reports whether the cgroup is frozen.
func (c *Cgroup) Paused() bool {
	s, err := c.FreezerState()
	return err == nil && s == Frozen
}

// Freeze stops every process of the cgroup and waits until the kernel
// reports the cgroup frozen (v1 freezer.state FROZEN, v2 cgroup.events
// "frozen 1"). If that does not happen within FreezeTimeout, the cgroup is
// thawed again and an error returned.
func (c *Cgroup) Freeze() error {
	dir, v2, err := c.freezerDir()
	if err != nil {
		return err
	}
	if v2 {
		return freezeV2(dir)
	}
	return freezeV1(dir)
}

// Thaw resumes the processes of the cgroup and waits until it is thawed.
func (c *Cgroup) Thaw() error {
	dir, v2, err := c.freezerDir()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(FreezeTimeout)
	if v2 {
		if err := writeFile(dir, "cgroup.freeze", "0"); err != nil {
			return fmt.Errorf("thawing %s: %w", dir, err)
		}
		for {
			frozen, err := v2Frozen(dir)
			if err != nil {
				return err
			}
			if !frozen {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("thawing %s: still frozen after %v (is a parent frozen?)", dir, FreezeTimeout)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for {
		if err := writeFile(dir, "freezer.state", string(Thawed)); err != nil {
			return fmt.Errorf("thawing %s: %w", dir, err)
		}
		s, err := readTrimmed(dir, "freezer.state")
		if err != nil {
			return fmt.Errorf("thawing %s: %w", dir, err)
		}
		if FreezerState(s) == Thawed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("thawing %s: state is %s after %v (is a parent frozen?)", dir, s, FreezeTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// freezeV1 writes FROZEN until freezer.state reads FROZEN. A v1 cgroup can
// stay FREEZING while new tasks keep appearing, so like runc it thaws and
// retries now and then.
func freezeV1(dir string) error {
	deadline := time.Now().Add(FreezeTimeout)
	for i := 0; ; i++ {
		if i%50 == 49 {
			_ = writeFile(dir, "freezer.state", string(Thawed))
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", string(Frozen)); err != nil {
			return fmt.Errorf("freezing %s: %w", dir, err)
		}
		s, err := readTrimmed(dir, "freezer.state")
		if err != nil {
			return fmt.Errorf("freezing %s: %w", dir, err)
		}
		switch FreezerState(s) {
		case Frozen:
			if i > 0 {
				debugf("cgroup: %s frozen after %d retries", dir, i)
			}
			return nil
		case Freezing:
		default:
			return fmt.Errorf("freezing %s: unexpected state %q", dir, s)
		}
		if time.Now().After(deadline) {
			_ = writeFile(dir, "freezer.state", string(Thawed))
			return fmt.Errorf("freezing %s: still FREEZING after %v; thawed it again", dir, FreezeTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// freezeV2 writes 1 to cgroup.freeze and waits for cgroup.events to report
// "frozen 1".
func freezeV2(dir string) error {
	if err := writeFile(dir, "cgroup.freeze", "1"); err != nil {
		return fmt.Errorf("freezing %s: %w", dir, err)
	}
	deadline := time.Now().Add(FreezeTimeout)
	delay := 100 * time.Microsecond
	for {
		frozen, err := v2Frozen(dir)
		if err != nil {
			return fmt.Errorf("freezing %s: %w", dir, err)
		}
		if frozen {
			return nil
		}
		if time.Now().After(deadline) {
			_ = writeFile(dir, "cgroup.freeze", "0")
			return fmt.Errorf("freezing %s: not frozen after %v; thawed it again", dir, FreezeTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 10*time.Millisecond)
	}
}
