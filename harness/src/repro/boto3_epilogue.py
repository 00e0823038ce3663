    except Stop:
        print("stopped: after a server error the target's state is unknown")
    except Fault:
        return 2
    finally:
        cleanup()
    if DIFFERING:
        print("summary: %d of %d checked steps differ from AWS (steps %s)"
              % (len(DIFFERING), len(CHECKED), ", ".join(map(str, DIFFERING))))
        return 1
    print("summary: all %d checked steps answer as AWS" % len(CHECKED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
