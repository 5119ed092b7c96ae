; Debian's SeaBIOS VGA BIOS (vgabios-stdvga.bin, the std VGA's ROM) on
; Umbra's VGA with no system BIOS (bios_lib.inc).  Through INT 10h only:
; mode 03h, the string below by teletype output, and the BIOS's 8x16 font
; (AX=1130h, BH=06h), which the program prints on the debug console with
; the cursor's start and end lines (CR0A/CR0B) so that check_bios.py can
; compute the screen.

%include "bios_lib.inc"

main:
    ; Mode 03h, then the string.
    mov ax, 0x0003
    int 0x10
    mov si, message
.tty:
    cs lodsb
    test al, al
    jz .tty_done
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    jmp .tty
.tty_done:
    ; Cursor lines as the BIOS programmed them.
    mov si, s_cursor
    call puts
    mov dx, 0x3d4
    mov al, 0x0a
    out dx, al
    inc dx
    in al, dx
    call hex8
    mov al, ' '
    out 0xe9, al
    dec dx
    mov al, 0x0b
    out dx, al
    inc dx
    in al, dx
    call hex8
    mov al, 10
    out 0xe9, al
    ; The 8x16 font: ES:BP, 16 bytes a character.
    mov ax, 0x1130
    mov bh, 0x06
    int 0x10
    cmp cx, 16
    jne fail
    mov si, s_font
    call puts
    xor dx, dx                         ; character
.char:
    mov cx, 16
.byte:
    mov al, [es:bp]
    call hex8
    inc bp
    loop .byte
    mov al, 10
    out 0xe9, al
    inc dx
    cmp dx, 256
    jb .char
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang
fail:
    mov al, 1
    out 0xf4, al
    hlt

message: db "Umbra VGA BIOS", 0
s_cursor: db "cursor ", 0
s_font: db "font", 10, 0

    BIOS_TAIL
