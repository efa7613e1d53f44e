package awscfg_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/awscfg"
)

// BenchmarkLoad measures what a function's init spends on the AWS
// configuration, with the environment Lambda gives a function (region and
// credentials in variables, no shared config files, no AWS_CA_BUNDLE), and
// the DynamoDB client built from it; and, for comparison, with a CA bundle
// to parse, as a machine that sets AWS_CA_BUNDLE (this one does) gives a
// process it starts.
//
//	go test -run '^$' -bench Load -benchmem ./internal/awscfg
func BenchmarkLoad(b *testing.B) {
	b.Setenv("AWS_REGION", "us-east-1")
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	b.Setenv("AWS_SESSION_TOKEN", "token")
	b.Setenv("AWS_CONFIG_FILE", b.TempDir()+"/none")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", b.TempDir()+"/none")
	bundle := os.Getenv("AWS_CA_BUNDLE")
	b.Setenv("AWS_CA_BUNDLE", "")
	for _, bb := range []struct {
		name string
		opts []func(*config.LoadOptions) error
	}{
		{name: "LoadDefaultConfig"},
		{name: "LoadDefaultConfig without shared files", opts: []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{})}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := awscfg.Load(b.Context(), bb.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if bundle != "" {
		b.Run("LoadDefaultConfig with AWS_CA_BUNDLE", func(b *testing.B) {
			b.Setenv("AWS_CA_BUNDLE", bundle)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := awscfg.Load(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("dynamodb.NewFromConfig", func(b *testing.B) {
		cfg, err := awscfg.Load(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			dynamodb.NewFromConfig(cfg)
		}
	})
}
