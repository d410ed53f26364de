"""Portal views, one module per screen family. Views are thin: forms validate, services decide."""
