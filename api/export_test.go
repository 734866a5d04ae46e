package api

// CommandBodiesMarkdown exposes the commands' table to the tests.
var CommandBodiesMarkdown = commandBodiesMarkdown
