"""Everything that exists only for the demo: the simulated shoppers and traffic of
`shipflow serve --demo` and the delivered history that trains the demo brand's model."""
