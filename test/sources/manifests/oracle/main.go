// Prints, for each document of the YAML/JSON stream on stdin, the JSON that kubectl's resource
// builder gets from k8s.io/apimachinery/pkg/util/yaml.NewYAMLOrJSONDecoder (one line per document,
// or "ERROR: <message>" when decoding fails, which stops the stream as it stops kubectl).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	d := yaml.NewYAMLOrJSONDecoder(bufio.NewReader(os.Stdin), 4096)
	for {
		ext := runtime.RawExtension{}
		if err := d.Decode(&ext); err != nil {
			if err == io.EOF {
				return
			}
			fmt.Printf("ERROR: %v\n", err)
			return
		}
		fmt.Printf("%s\n", string(ext.Raw))
	}
}
