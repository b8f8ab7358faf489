package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// EnvPrefix starts every override: STILLS_HTTP_LISTEN sets http.listen,
// STILLS_STORAGE_S3_BUCKET sets storage.s3.bucket (creating the s3 block).
const EnvPrefix = "STILLS_"

// ApplyEnv applies STILLS_* overrides from environ ("K=V" pairs) to the
// scalar keys of cfg. Lists (streams, sizes) are not overridable.
// An unknown STILLS_ variable is an error, so a typo is not silently ignored.
func ApplyEnv(cfg *Config, environ []string) error {
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		path := strings.TrimPrefix(k, EnvPrefix)
		found, err := setPath(reflect.ValueOf(cfg).Elem(), path, v, "")
		if err != nil {
			return &Error{Key: k, Reason: err.Error()}
		}
		if !found {
			return &Error{Key: k, Reason: "no such configuration key"}
		}
	}
	return nil
}

// setPath finds the field whose upper-cased yaml path (joined by '_')
// equals path and sets it from s.
func setPath(v reflect.Value, path, s, prefix string) (bool, error) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + strings.ToUpper(tag)
		fv := v.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			if !strings.HasPrefix(path, name+"_") {
				continue
			}
			if fv.IsNil() {
				fv.Set(reflect.New(ft.Elem()))
			}
			return setPath(fv.Elem(), path, s, name+"_")
		}
		if ft.Kind() == reflect.Struct {
			if strings.HasPrefix(path, name+"_") {
				if ok, err := setPath(fv, path, s, name+"_"); ok || err != nil {
					return ok, err
				}
			}
			continue
		}
		if name != path {
			continue
		}
		return true, setScalar(fv, s)
	}
	return false, nil
}

func setScalar(fv reflect.Value, s string) error {
	if fv.Kind() == reflect.Pointer {
		nv := reflect.New(fv.Type().Elem())
		if err := setScalar(nv.Elem(), s); err != nil {
			return err
		}
		fv.Set(nv)
		return nil
	}
	if fv.Type() == reflect.TypeFor[Duration]() {
		var d Duration
		if err := d.parse(s); err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		fv.SetInt(n)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// Masked returns a copy with secrets replaced, for logging the effective
// configuration.
func (c Config) Masked() Config {
	if c.HTTP.AdminKey != "" {
		c.HTTP.AdminKey = "***"
	}
	if c.Auth.TokenKey != "" {
		c.Auth.TokenKey = "***"
	}
	if c.Storage.S3 != nil {
		s3 := *c.Storage.S3
		if s3.SecretKey != "" {
			s3.SecretKey = "***"
		}
		c.Storage.S3 = &s3
	}
	return c
}
