package specutils

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestProcessAttributes(t *testing.T) {
	if v, err := Personality(&specs.LinuxPersonality{Domain: specs.PerLinux32}); err != nil || v != perLinux32 {
		t.Errorf("LINUX32 = %#x, %v", v, err)
	}
	if _, err := Personality(&specs.LinuxPersonality{Domain: "BSD"}); err == nil {
		t.Error("unknown personality domain accepted")
	}
	if v, err := IOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4}); err != nil || v != 2<<13|4 {
		t.Errorf("BE/4 = %#x, %v", v, err)
	}
	for _, bad := range []specs.LinuxIOPriority{{Class: "X", Priority: 1}, {Class: specs.IOPRIO_CLASS_RT, Priority: 8}, {Class: specs.IOPRIO_CLASS_RT, Priority: -1}} {
		if _, err := IOPriority(&bad); err == nil {
			t.Errorf("ioPriority %+v accepted", bad)
		}
	}
	a, err := SchedAttr(&specs.Scheduler{Policy: specs.SchedBatch, Nice: 5, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}})
	if err != nil || a.Policy != unix.SCHED_BATCH || a.Nice != 5 || a.Flags != unix.SCHED_FLAG_RESET_ON_FORK || a.Size != unix.SizeofSchedAttr {
		t.Errorf("SchedAttr = %+v, %v", a, err)
	}
	if _, err := SchedAttr(&specs.Scheduler{Policy: specs.SchedISO}); err == nil {
		t.Error("SCHED_ISO (not in Linux) accepted")
	}
	if _, err := SchedAttr(&specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_NOPE"}}); err == nil {
		t.Error("unknown scheduler flag accepted")
	}
}
