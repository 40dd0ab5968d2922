package sandbox

import (
	"os"
	"testing"
)

func TestParseStatmAnon(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"typical", "5000 1200 200 300 0 900 0\n", 1000 * 4096, false},
		{"no newline", "5000 1200 200 300 0 900 0", 1000 * 4096, false},
		{"only three fields", "5 3 1", 2 * 4096, false},
		{"shared over resident", "5 1 3 0 0 0 0\n", 0, false},
		{"empty", "", 0, true},
		{"two fields", "5 3", 0, true},
		{"letters", "5 x 1 0 0 0 0\n", 0, true},
		{"negative", "5 -3 1 0 0 0 0\n", 0, true},
		{"overflow", "1 99999999999999999999999 1 0 0 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatmAnon([]byte(tt.in), 4096)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatmAnon(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestAnonRSSAgreesWithStatus: statm's resident-minus-shared is the
// status file's RssAnon (read twice, so a little drift is allowed).
func TestAnonRSSAgreesWithStatus(t *testing.T) {
	a, err := openAnonRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for range 3 { // re-reads in place
		got, err := a.read()
		if err != nil {
			t.Fatal(err)
		}
		want, err := procAnonRSS(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if d := got - want; d > 4<<20 || d < -4<<20 {
			t.Fatalf("statm says %d bytes anonymous, status says %d", got, want)
		}
	}
	if _, err := openAnonRSS(-1); err == nil {
		t.Fatal("opening statm of pid -1 worked")
	}
}

// BenchmarkWatchdogRead: one memory-limit poll of a process, the old way
// (open and parse /proc/<pid>/status) and the watchdog's (re-read statm).
func BenchmarkWatchdogRead(b *testing.B) {
	pid := os.Getpid()
	b.Run("status", func(b *testing.B) {
		for b.Loop() {
			if _, err := procAnonRSS(pid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("statm", func(b *testing.B) {
		a, err := openAnonRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		defer a.close()
		for b.Loop() {
			if _, err := a.read(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
