package dburi

import (
	"strings"
	"testing"
)

// FuzzParseRedacts: any location Parse accepts shows no password once redacted, and
// neither does any message Parse gives about a location it refuses.
func FuzzParseRedacts(f *testing.F) {
	for _, seed := range []string{
		"postgresql://u:Secr3tPw@h:5432/db", "mysql+pymysql://u:Secr3tPw@h/db?charset=utf8mb4",
		"host=h port=5432 password='Secr3t Pw' dbname=db user=u", "postgresql://u@h/db?password=Secr3tPw&sslmode=require",
		"sqlite:////tmp/x.db", "postgresql://u:Secr3t@Pw@h/db", "http://u:Secr3tPw@h/", "C:\\Users\\me\\mlflow.db",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Parse(raw)
		if err != nil {
			if strings.Contains(raw, "Secr3t") && strings.Contains(err.Error(), "Secr3t") && !strings.Contains(Redact(raw), "Secr3t") {
				t.Fatalf("%q: the message shows the password: %v", raw, err)
			}
			return
		}
		pw := u.Password()
		if len(pw) < 4 || strings.Count(raw, pw) != 1 || strings.Contains(u.Redacted(), "xxxxx"+pw) {
			return // a password too short or too common to tell from the rest of the text
		}
		if strings.Contains(u.Redacted(), pw) {
			t.Fatalf("%q redacted is %q, which shows the password %q", raw, u.Redacted(), pw)
		}
	})
}
