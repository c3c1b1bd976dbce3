package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// The sizes a type or function may grow to before it does more than one thing: the
// centre of the import was one struct that every feature landed in, and this keeps it
// from becoming one again.
const (
	maxMethods    = 40
	maxFields     = 25
	maxFuncLines  = 120
	typeSizeScope = "non-test, non-generated code"
)

// TestNoTypeOrFunctionKnowsEverything: no type of the module's own code has over
// maxMethods methods or maxFields fields, and no function is over maxFuncLines lines
// (tests and generated code aside).
func TestNoTypeOrFunctionKnowsEverything(t *testing.T) {
	methods, fields := map[string]int{}, map[string]int{}
	fset := token.NewFileSet()
	for _, file := range goFiles(t, false) {
		f, err := parser.ParseFile(fset, filepath.Join(root, file), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if generated(f) {
			continue
		}
		pkg := path.Dir(file)
		for _, d := range f.Decls {
			switch x := d.(type) {
			case *ast.FuncDecl:
				if n := fset.Position(x.End()).Line - fset.Position(x.Pos()).Line; n > maxFuncLines {
					t.Errorf("%s: %s is %d lines; split it (at most %d in %s)", file, x.Name.Name, n, maxFuncLines, typeSizeScope)
				}
				if x.Recv != nil && len(x.Recv.List) > 0 {
					methods[pkg+"."+receiverName(x.Recv.List[0].Type)]++
				}
			case *ast.GenDecl:
				for _, spec := range x.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok {
						continue
					}
					if st, ok := ts.Type.(*ast.StructType); ok {
						n := 0
						for _, fl := range st.Fields.List {
							n += max(1, len(fl.Names))
						}
						fields[pkg+"."+ts.Name.Name] = n
					}
				}
			}
		}
	}
	for typ, n := range methods {
		if n > maxMethods {
			t.Errorf("%s has %d methods; give its concerns values of their own (at most %d)", typ, n, maxMethods)
		}
	}
	for typ, n := range fields {
		if n > maxFields {
			t.Errorf("%s has %d fields; group them by concern (at most %d)", typ, n, maxFields)
		}
	}
	if len(methods) < 50 {
		t.Fatalf("found methods of %d types: the walk read too little", len(methods))
	}
}

func receiverName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return receiverName(x.X)
	case *ast.IndexExpr:
		return receiverName(x.X)
	case *ast.IndexListExpr:
		return receiverName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

// generated reports whether a file says it is generated (Go's convention).
func generated(f *ast.File) bool {
	for _, c := range f.Comments {
		for _, l := range c.List {
			if strings.HasPrefix(l.Text, "// Code generated") && strings.HasSuffix(l.Text, "DO NOT EDIT.") {
				return true
			}
		}
	}
	return false
}
