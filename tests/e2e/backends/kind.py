def missing_requirements():
    return 'not yet'
