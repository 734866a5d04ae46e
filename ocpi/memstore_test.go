package ocpi_test

import (
	"testing"

	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpi/ocpitest"
)

func TestMemoryStoreConformance(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return ocpi.NewMemoryStore() }, ocpitest.Options{})
}

func TestMemoryStoreZeroValueIsEmptyStore(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return new(ocpi.MemoryStore) }, ocpitest.Options{})
}
