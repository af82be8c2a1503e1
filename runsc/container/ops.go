package container

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/cgroup"
)

// ErrNoCgroup is returned for operations that need the container's cgroup
// when runsc manages none (rootless mode).
var ErrNoCgroup = errors.New("container has no cgroup (rootless)")

// locked loads container id under an exclusive lock and runs f on it,
// saving the state afterwards when f returns nil.
func locked(root, id string, f func(c *Container) error) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := stateDir(root, id)
	l, err := takeLock(dir, true, false)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	if err != nil {
		return err
	}
	defer l.release()
	c, err := loadLocked(dir, id)
	if err != nil {
		return err
	}
	if err := f(c); err != nil {
		return err
	}
	if err := c.saveConfig(); err != nil {
		return err
	}
	return c.save()
}

// Pause freezes every process of a running container (and the runsc
// processes serving it, which share its cgroup).
func Pause(root, id string) error {
	return locked(root, id, func(c *Container) error {
		if c.Cgroup == nil {
			return fmt.Errorf("pausing container %q: %w", id, ErrNoCgroup)
		}
		if c.Status != Running {
			return fmt.Errorf("cannot pause container %q: it is %s, not running", id, c.Status)
		}
		if err := c.Cgroup.Freeze(); err != nil {
			return fmt.Errorf("pausing container %q: %w", id, err)
		}
		return nil
	})
}

// Resume thaws a paused container.
func Resume(root, id string) error {
	return locked(root, id, func(c *Container) error {
		if c.Cgroup == nil {
			return fmt.Errorf("resuming container %q: %w", id, ErrNoCgroup)
		}
		if c.Status != Paused {
			return fmt.Errorf("cannot resume container %q: it is %s, not paused", id, c.Status)
		}
		if err := c.Cgroup.Thaw(); err != nil {
			return fmt.Errorf("resuming container %q: %w", id, err)
		}
		return nil
	})
}

// Update validates res against the container's cgroup and then writes it:
// a bad value leaves the old limits in place.
func Update(root, id string, res *specs.LinuxResources) error {
	return locked(root, id, func(c *Container) error {
		if c.Status == Stopped {
			return fmt.Errorf("updating container %q: %w", id, ErrNotRunning)
		}
		if c.Cgroup == nil {
			return fmt.Errorf("updating container %q: %w", id, ErrNoCgroup)
		}
		if err := c.Cgroup.Validate(res); err != nil {
			return fmt.Errorf("updating container %q: %w", id, err)
		}
		if err := c.Cgroup.Set(res); err != nil {
			return fmt.Errorf("updating container %q: %w", id, err)
		}
		return nil
	})
}

// Stats returns the container's cgroup statistics in runc's shape.
func (c *Container) Stats() (*cgroup.Stats, error) {
	if c.Cgroup == nil {
		return nil, fmt.Errorf("stats of container %q: %w", c.ID, ErrNoCgroup)
	}
	if c.Status == Stopped {
		return nil, fmt.Errorf("stats of container %q: %w", c.ID, ErrNotRunning)
	}
	return c.Cgroup.Stats()
}
