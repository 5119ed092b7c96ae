; A Bochs VBE mode set through the dispi ports (0x1CE index, 0x1CF
; data): 320x200 at 32 bits per pixel with the linear framebuffer at
; 0xE0000000, where pixel (x, y) gets R = x & 0xff, G = y, B = (x ^ y) &
; 0xff.
%include "vga_lib.inc"

LFB equ 0xe0000000

%macro DISPI 2
    mov dx, 0x1ce
    mov ax, %1
    out dx, ax
    mov dx, 0x1cf
    mov ax, %2
    out dx, ax
%endmacro

start:
    DISPI 0, 0xb0c5            ; ID: the interface version
    mov dx, 0x1cf
    in ax, dx
    cmp ax, 0xb0c5
    jne fail
    DISPI 0x0a, 0              ; VIDEO_MEMORY_64K: 16 MiB
    in ax, dx
    cmp ax, 256
    jne fail
    DISPI 1, 320
    DISPI 2, 200
    DISPI 3, 32
    DISPI 4, 0x41              ; ENABLED | LFB_ENABLED
    mov edi, LFB
    xor ebx, ebx
.row:
    xor ecx, ecx
.col:
    mov eax, ecx
    xor eax, ebx
    and eax, 0xff              ; B
    mov edx, ebx
    shl edx, 8                 ; G
    or eax, edx
    mov edx, ecx
    and edx, 0xff
    shl edx, 16                ; R
    or eax, edx
    mov [edi], eax
    add edi, 4
    inc ecx
    cmp ecx, 320
    jb .col
    inc ebx
    cmp ebx, 200
    jb .row
    DONE
fail:
    mov al, 1
    out 0xf4, al
    hlt

load_end:
bss_end:
