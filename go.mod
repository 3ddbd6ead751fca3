module github.com/arcodange/dance-lessons-coach

go 1.22
