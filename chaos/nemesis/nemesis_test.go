package nemesis

import (
	"reflect"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/scenario"
)

var regions = []string{"us-east-1", "eu-west-1", "ap-northeast-1"}

func TestSameSeedSameSchedule(t *testing.T) {
	cfg := Config{Seed: 42, Duration: 5 * time.Minute, Regions: regions}
	a, err := Schedule(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Schedule(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 20 {
		t.Fatalf("a 5-minute schedule of %d steps", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed drew two different schedules")
	}
	c, err := Schedule(Config{Seed: 43, Duration: 5 * time.Minute, Regions: regions})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(Lines(a), Lines(c)) {
		t.Fatal("seeds 42 and 43 drew the same schedule")
	}
}

func TestScheduleShape(t *testing.T) {
	for seed := range int64(30) {
		cfg := Config{Seed: seed, Duration: 2 * time.Minute, Regions: regions}
		steps, err := Schedule(cfg)
		if err != nil {
			t.Fatal(err)
		}
		end := scenario.Duration(cfg.Duration - 10*time.Second)
		seen := map[string]bool{}
		var procEnd scenario.Duration
		for i, s := range steps {
			if i > 0 && s.At < steps[i-1].At {
				t.Fatalf("seed %d: steps out of order at %d", seed, i)
			}
			if s.At+s.Duration > end+scenario.Duration(time.Second) {
				t.Fatalf("seed %d: %s ends after the settle time", seed, s)
			}
			seen[string(s.Action)+s.Kind] = true
			switch s.Action {
			case scenario.ActionKill, scenario.ActionPause, scenario.ActionKillAfterAck:
				if s.At < procEnd {
					t.Fatalf("seed %d: two process faults at once (%s)", seed, s)
				}
				procEnd = scenario.Duration(time.Hour)
			case scenario.ActionHeal:
				procEnd = s.At
			}
		}
		if procEnd == scenario.Duration(time.Hour) {
			t.Fatalf("seed %d: a process fault is never healed", seed)
		}
	}
}

func TestScenarioValidAndPrefix(t *testing.T) {
	sc, err := Scenario(Config{Seed: 7, Duration: time.Minute, Regions: regions}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "random-7" || sc.Load.Requests != DefaultRate*60 || len(sc.Invariants) != 9 {
		t.Fatalf("scenario %s: %d requests, %d invariants", sc.Name, sc.Load.Requests, len(sc.Invariants))
	}
	p := Prefix(sc, 2, 5*time.Second)
	if len(p.Steps) > 2 || p.Load.Duration.D() > sc.Steps[1].At.D()+5*time.Second {
		t.Fatalf("prefix %d steps, load %s", len(p.Steps), p.Load.Duration)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("prefix invalid: %v", err)
	}
	if len(sc.Steps) < 3 {
		t.Fatal("scenario too short to check the prefix did not alias it")
	}
}

func TestConfigRefused(t *testing.T) {
	for _, cfg := range []Config{
		{Duration: time.Minute},
		{Duration: 0, Regions: regions},
		{Duration: time.Minute, Regions: regions, Weights: map[string]int{"meteor": 1}},
		{Duration: time.Minute, Regions: regions, Weights: map[string]int{OpKill: 0}},
		{Duration: time.Minute, Regions: regions, Weights: map[string]int{OpKill: -1}},
	} {
		if _, err := Schedule(cfg); err == nil {
			t.Errorf("Schedule(%+v) accepted", cfg)
		}
	}
}
