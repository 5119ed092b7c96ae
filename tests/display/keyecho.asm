; Echo what the keyboard controller delivers: every byte read from port
; 0x60 is printed on the debug console as "k" (keyboard) or "m" (mouse,
; status bit AUXB) and two hex digits.  The mouse is enabled first (aux
; clock on, then F4 through D4).  Ends (exit 0) when the release of the A
; key (set 1 code 0x9E) arrives.  A Multiboot kernel; polls, so it needs
; no interrupt set-up.
    bits 32
    org 0x100000

MB_FLAGS equ 0x00010000

mb_header:
    dd 0x1BADB002
    dd MB_FLAGS
    dd -(0x1BADB002 + MB_FLAGS)
    dd mb_header
    dd mb_header
    dd load_end
    dd bss_end
    dd start

start:
    mov esp, 0x90000
    mov al, 0xa8               ; aux clock on
    out 0x64, al
    mov al, 0xd4               ; next byte to the mouse:
    out 0x64, al
    mov al, 0xf4               ; enable reporting
    out 0x60, al
.poll:
    in al, 0x64
    test al, 1
    jz .poll
    mov bl, al
    in al, 0x60
    mov bh, al
    mov al, 'k'
    test bl, 0x20
    jz .kbd
    mov al, 'm'
.kbd:
    out 0xe9, al
    mov al, bh
    shr al, 4
    call hex
    mov al, bh
    call hex
    mov al, 10
    out 0xe9, al
    test bl, 0x20
    jnz .poll
    cmp bh, 0x9e
    jne .poll
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang

hex:
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xe9, al
    ret

load_end:
bss_end:
